/*
 * Reply templates: each file of the templates folder is compiled at load
 * time into a flat list of nodes (literal text, placeholders, sections),
 * then expanded without recursion and wrapped into a complete RFC 5322
 * message with CRLF line ends.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "buf.h"
#include "conf.h"
#include "diag.h"
#include "distfiles.h"
#include "mime.h"
#include "rules.h"
#include "template.h"
#include "xmalloc.h"

#define TMPL_MAX_FILE	65536	/* bytes of one template file */
#define TMPL_MAX_BODY	65536	/* bytes of an expanded body */
#define TMPL_MAX_SUBJ	1024	/* bytes of an expanded subject */
#define TMPL_MAX_MSG	(4 * TMPL_MAX_BODY + 16384) /* whole message */
#define TMPL_MAX_DEPTH	16	/* nested sections */
#define TMPL_MAX_VALUE	512	/* bytes of a value taken from the mail */
#define TMPL_MAX_NAME	64	/* longer display names are not used */
#define TMPL_MAX_MSGID	255	/* longer message ids are dropped */
#define TMPL_MAX_REFS	20	/* ids kept in References */
#define TMPL_WRAP	78	/* body lines are wrapped to this width */
#define TMPL_FALLBACK_SUBJECT "Auto-reply"

enum tnode_type {
	TN_TEXT,		/* literal text */
	TN_VAR,			/* {{name}} */
	TN_SECTION,		/* {{#name}} */
	TN_INVERTED,		/* {{^name}} */
	TN_CLOSE		/* {{/name}} */
};

enum tvar {
	TV_NONE,
	TV_PRACTICE,		/* practice.KEY: text is KEY */
	TV_SENDER_NAME,		/* sender.name */
	TV_SUBJECT,		/* subject */
	TV_TAG			/* a verdict tag: sections only */
};

struct tnode {
	enum tnode_type	 type;
	enum tvar	 var;
	char		*text;	/* literal, practice key or tag name */
	size_t		 end;	/* sections: index of the matching close */
	unsigned	 line;
};

struct tnodes {
	struct tnode	*v;
	size_t		 n;
	size_t		 cap;
};

struct tmpl {
	char		*name;
	struct tnodes	 subject;
	struct tnodes	 body;
};

struct tmplset {
	struct tmpl	*v;
	size_t		 n;
};

/* State while compiling one file. */
struct tcomp {
	const char		*file;
	const struct conf	*conf;
	struct diag		*diag;
	struct tnodes		*out;
	size_t			 stack[TMPL_MAX_DEPTH];
	size_t			 depth;
	unsigned		 errors;
};

/* Values of one expansion. */
struct rctx {
	const struct conf	*conf;
	const struct verdict	*verdict;
	const char		*name;		/* cleaned sender name or "" */
	const char		*subject;	/* cleaned subject or "" */
};

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t	len, i;

	if (n == 0)
		return (0);
	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return (0);
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return (0);
	return (len);
}

/* Is the UTF-8 sequence at s a bidi control that could disguise text? */
static int
utf8_is_bidi(const unsigned char *s, size_t len)
{
	if (len != 3 || s[0] != 0xe2)
		return (0);
	if (s[1] == 0x80 && s[2] >= 0xaa && s[2] <= 0xae)
		return (1);	/* U+202A..U+202E */
	if (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
		return (1);	/* U+2066..U+2069 */
	return (0);
}

/*
 * Make a single-line value safe for a header or the body: controls (C0,
 * C1, U+2028/9) become spaces, bidi overrides go, invalid UTF-8 becomes
 * '?', white space is collapsed and trimmed, and the result is cut at max
 * bytes on a character boundary. Caller frees.
 */
static char *
tmpl_clean(const char *s, size_t max)
{
	const unsigned char	*p;
	struct buf		 b;
	char			*safe;
	size_t			 n, len;
	int			 space = 0;

	if (s == NULL)
		return (xstrdup(""));
	/* Inbound text passes the mime module's filter first. */
	safe = mime_header_safe(s);
	p = (const unsigned char *)safe;
	n = strlen(safe);
	buf_init(&b, 0);
	while (n > 0) {
		len = utf8_seq(p, n);
		if (len == 0) {
			len = 1;
			if (space && b.len > 0)
				buf_addch(&b, ' ');
			space = 0;
			if (b.len + 1 > max)
				break;
			buf_addch(&b, '?');
		} else if ((len == 1 && (p[0] < 0x20 || p[0] == 0x7f ||
		    p[0] == ' ')) || (len == 2 && p[0] == 0xc2 &&
		    p[1] < 0xa0) || (len == 3 && p[0] == 0xe2 &&
		    p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)))
			space = 1;
		else if (utf8_is_bidi(p, len))
			;
		else {
			if (space && b.len > 0) {
				if (b.len + 1 + len > max)
					break;
				buf_addch(&b, ' ');
			}
			space = 0;
			if (b.len + len > max)
				break;
			buf_add(&b, p, len);
		}
		p += len;
		n -= len;
	}
	free(safe);
	return (buf_detach(&b, NULL));
}

/*
 * The sender's display name as a greeting may use it: empty when missing,
 * too long, or looking like an address or a link (an attacker's text
 * must not ride along in the practice's reply).
 */
static char *
tmpl_sender_name(const struct msg *msg)
{
	char	*name;
	size_t	 len;

	name = tmpl_clean(msg != NULL ? msg->from.name : NULL, 4 *
	    TMPL_MAX_NAME);
	len = strlen(name);
	if (len >= 2 && (name[0] == '"' || name[0] == '\'') &&
	    name[len - 1] == name[0]) {
		memmove(name, name + 1, len - 2);
		name[len - 2] = '\0';
		len -= 2;
	}
	if (len > TMPL_MAX_NAME || strchr(name, '@') != NULL ||
	    strstr(name, "://") != NULL || strcasestr(name, "www.") != NULL ||
	    strspn(name, " '") == len)
		name[0] = '\0';
	return (name);
}

/* Append a node and return its index. */
static size_t
tnodes_add(struct tnodes *t, enum tnode_type type, enum tvar var,
    const char *text, size_t len, unsigned line)
{
	struct tnode	*n;

	/* Adjacent literal text is one node. */
	if (type == TN_TEXT && t->n > 0 && t->v[t->n - 1].type == TN_TEXT) {
		n = &t->v[t->n - 1];
		n->text = xreallocarray(n->text, 1, strlen(n->text) + len + 1);
		strncat(n->text, text, len);
		return (t->n - 1);
	}
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 16 : t->cap * 2;
		t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
	}
	n = &t->v[t->n];
	n->type = type;
	n->var = var;
	n->text = xstrndup(text, len);
	n->end = 0;
	n->line = line;
	return (t->n++);
}

/* Free every node of t. */
static void
tnodes_free(struct tnodes *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t->v);
	memset(t, 0, sizeof *t);
}

/* Is key one of [practice]'s keys in conf? */
static const char *
tmpl_practice(const struct conf *conf, const char *key)
{
	size_t	i;

	if (conf == NULL)
		return (NULL);
	for (i = 0; i < conf->practice.n; i++)
		if (strcasecmp(conf->practice.kv[i].key, key) == 0)
			return (conf->practice.kv[i].value != NULL ?
			    conf->practice.kv[i].value : "");
	return (NULL);
}

/* Is s (len bytes) a tag name: letters, digits, '_' and '-'? */
static int
tmpl_tag_name(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-')
			return (0);
	return (1);
}

/*
 * Resolve a placeholder or section name to what it refers to; on error
 * report it at the line and return TV_NONE. *keyp is set to the part to
 * keep (practice key or tag name).
 */
static enum tvar
tc_resolve(struct tcomp *c, const char *name, size_t len, int section,
    unsigned line, const char **keyp, size_t *keylenp)
{
	*keyp = name;
	*keylenp = len;
	if (len == 7 && strncmp(name, "subject", 7) == 0)
		return (TV_SUBJECT);
	if (len == 11 && strncmp(name, "sender.name", 11) == 0)
		return (TV_SENDER_NAME);
	if (len > 9 && strncmp(name, "practice.", 9) == 0) {
		char	*key = xstrndup(name + 9, len - 9);
		int	 known = tmpl_practice(c->conf, key) != NULL;

		free(key);
		if (!known) {
			diag_error(c->diag, c->file, line,
			    "unknown [practice] key '%.*s'", (int)(len - 9),
			    name + 9);
			c->errors++;
			return (TV_NONE);
		}
		*keyp = name + 9;
		*keylenp = len - 9;
		return (TV_PRACTICE);
	}
	if (section && tmpl_tag_name(name, len))
		return (TV_TAG);
	diag_error(c->diag, c->file, line, "unknown %s '%.*s'",
	    section ? "section name" : "placeholder", (int)(len > 64 ? 64 :
	    len), name);
	c->errors++;
	return (TV_NONE);
}

/* Compile one {{...}} tag whose inside is s (len bytes). */
static void
tc_tag(struct tcomp *c, const char *s, size_t len, unsigned line)
{
	struct tnode	*open;
	const char	*key;
	size_t		 keylen, i;
	enum tvar	 var;
	char		 sigil = '\0';

	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len > 0 && strchr("#^/!>&{=", *s) != NULL) {
		sigil = *s++;
		len--;
		while (len > 0 && (*s == ' ' || *s == '\t'))
			s++, len--;
	}
	if (sigil == '!')
		return;
	if (sigil != '\0' && strchr("#^/", sigil) == NULL) {
		diag_error(c->diag, c->file, line,
		    "unsupported tag '{{%c' (no partials, delimiters or raw "
		    "values)", sigil);
		c->errors++;
		return;
	}
	if (len == 0) {
		diag_error(c->diag, c->file, line, "empty tag '{{%s}}'",
		    sigil == '#' ? "#" : sigil == '^' ? "^" :
		    sigil == '/' ? "/" : "");
		c->errors++;
		return;
	}
	/* A close of a section whose name was already reported is quiet. */
	if (sigil == '/' && c->depth > 0 &&
	    (open = &c->out->v[c->stack[c->depth - 1]])->var == TV_NONE &&
	    strlen(open->text) == len && strncmp(open->text, s, len) == 0) {
		c->depth--;
		return;
	}
	var = tc_resolve(c, s, len, sigil != '\0', line, &key, &keylen);
	if (var == TV_NONE && sigil != '#' && sigil != '^')
		return;
	switch (sigil) {
	case '\0':
		tnodes_add(c->out, TN_VAR, var, key, keylen, line);
		break;
	case '#':
	case '^':
		if (c->depth == TMPL_MAX_DEPTH) {
			diag_error(c->diag, c->file, line,
			    "sections nested more than %d deep",
			    TMPL_MAX_DEPTH);
			c->errors++;
			return;
		}
		c->stack[c->depth++] = tnodes_add(c->out, sigil == '#' ?
		    TN_SECTION : TN_INVERTED, var, key, keylen, line);
		break;
	case '/':
		if (c->depth == 0) {
			diag_error(c->diag, c->file, line,
			    "'{{/%.*s}}' closes no open section",
			    (int)(len > 64 ? 64 : len), s);
			c->errors++;
			return;
		}
		open = &c->out->v[c->stack[c->depth - 1]];
		if (open->var != var || strlen(open->text) != keylen ||
		    strncasecmp(open->text, key, keylen) != 0) {
			diag_error(c->diag, c->file, line,
			    "'{{/%.*s}}' does not match the section opened at "
			    "line %u", (int)(len > 64 ? 64 : len), s,
			    open->line);
			c->errors++;
		}
		c->depth--;
		i = tnodes_add(c->out, TN_CLOSE, var, key, keylen, line);
		c->out->v[c->stack[c->depth]].end = i;
		break;
	}
}

/*
 * Is the line a "standalone" tag: only white space around one section,
 * inverted, close or comment tag? Such a line leaves no empty line
 * behind. Returns the tag's inside, or NULL.
 */
static const char *
tc_standalone(const char *s, size_t len, size_t *innerlen)
{
	const char	*end = s + len, *close;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - s < 5 || strncmp(s, "{{", 2) != 0 ||
	    strncmp(end - 2, "}}", 2) != 0)
		return (NULL);
	s += 2;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (strchr("#^/!", *s) == NULL)
		return (NULL);
	close = memmem(s, end - s, "}}", 2);
	if (close != end - 2)
		return (NULL);
	*innerlen = close - s;
	return (s);
}

/* Compile one line of a subject or body; nl appends its line end. */
static void
tc_line(struct tcomp *c, const char *s, size_t len, unsigned line, int nl,
    int standalone)
{
	const char	*end = s + len, *open, *close, *inner;
	size_t		 innerlen;

	if (standalone &&
	    (inner = tc_standalone(s, len, &innerlen)) != NULL) {
		tc_tag(c, inner, innerlen, line);
		return;
	}
	while (s < end) {
		if ((open = memmem(s, end - s, "{{", 2)) == NULL) {
			tnodes_add(c->out, TN_TEXT, TV_NONE, s, end - s, line);
			break;
		}
		if (open > s)
			tnodes_add(c->out, TN_TEXT, TV_NONE, s, open - s, line);
		close = memmem(open + 2, end - open - 2, "}}", 2);
		if (close == NULL) {
			diag_error(c->diag, c->file, line,
			    "'{{' without '}}' on the same line");
			c->errors++;
			return;
		}
		tc_tag(c, open + 2, close - open - 2, line);
		s = close + 2;
	}
	if (nl)
		tnodes_add(c->out, TN_TEXT, TV_NONE, "\n", 1, line);
}

/* Report every section still open (end of subject or file) as an error. */
static void
tc_unclosed(struct tcomp *c)
{
	struct tnode	*open;

	while (c->depth > 0) {
		open = &c->out->v[c->stack[--c->depth]];
		diag_error(c->diag, c->file, open->line,
		    "section '%s' is never closed", open->text);
		c->errors++;
	}
}

/* Check the text for bytes a template may not hold, reported by line. */
static int
tc_check_bytes(struct tcomp *c, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, seq;
	unsigned		 line = 1, bad = 0;
	int			 reported = 0;

	while (i < len) {
		if (p[i] == '\n') {
			line++;
			reported = 0;
			i++;
			continue;
		}
		seq = utf8_seq(p + i, len - i);
		if (seq == 0 || (seq == 1 && ((p[i] < 0x20 && p[i] != '\t' &&
		    !(p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')) ||
		    p[i] == 0x7f))) {
			if (!reported)
				diag_error(c->diag, c->file, line, "%s",
				    seq == 0 ? "invalid UTF-8" :
				    "control character");
			reported = 1;
			bad++;
			seq = 1;
		}
		i += seq;
	}
	c->errors += bad ? 1 : 0;
	return (bad ? -1 : 0);
}

/* Warn when a crisis template does not always name 988 and 911. */
static void
tc_crisis(struct tcomp *c, const struct tmpl *t)
{
	static const char	*need[] = { "988", "911" };
	size_t			 i, k, depth;
	int			 found;

	for (k = 0; k < sizeof need / sizeof need[0]; k++) {
		found = 0;
		depth = 0;
		for (i = 0; i < t->body.n && !found; i++) {
			if (t->body.v[i].type == TN_SECTION ||
			    t->body.v[i].type == TN_INVERTED)
				depth++;
			else if (t->body.v[i].type == TN_CLOSE)
				depth--;
			else if (t->body.v[i].type == TN_TEXT && depth == 0 &&
			    strstr(t->body.v[i].text, need[k]) != NULL)
				found = 1;
		}
		if (!found)
			diag_add(c->diag, DIAG_WARNING, c->file, 0, 0,
			    "crisis template does not always show %s "
			    "(crisis resources belong first, outside any "
			    "section)", need[k]);
	}
}

/* Read a whole template file (at most TMPL_MAX_FILE bytes). */
static char *
tmpl_read(struct tcomp *c, size_t *lenp)
{
	struct buf	 b;
	FILE		*fp;
	char		 chunk[4096];
	size_t		 n;

	if ((fp = fopen(c->file, "r")) == NULL) {
		diag_error(c->diag, c->file, 0, "%s", strerror(errno));
		c->errors++;
		return (NULL);
	}
	buf_init(&b, TMPL_MAX_FILE);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		if (buf_add(&b, chunk, n) == -1)
			break;
	if (ferror(fp) || b.truncated) {
		diag_error(c->diag, c->file, 0, "%s", ferror(fp) ?
		    "read error" : "file larger than 64 KiB");
		c->errors++;
		fclose(fp);
		buf_free(&b);
		return (NULL);
	}
	fclose(fp);
	return (buf_detach(&b, lenp));
}

/*
 * Compile the file c->file into t: a header block (Subject: and '#'
 * comment lines), a blank line, then the body.
 */
static void
tc_file(struct tcomp *c, struct tmpl *t)
{
	char		*data, *s, *end, *nl, *colon;
	size_t		 len, linelen;
	unsigned	 line = 0, subject = 0;
	int		 header = 1;

	if ((data = tmpl_read(c, &len)) == NULL)
		return;
	if (len == 0) {
		diag_error(c->diag, c->file, 0, "empty file");
		c->errors++;
		free(data);
		return;
	}
	if (tc_check_bytes(c, data, len) == -1) {
		free(data);
		return;
	}
	s = data;
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;		/* a byte order mark from a Windows editor */
	for (end = data + len; s < end; s = nl + 1) {
		line++;
		if ((nl = memchr(s, '\n', end - s)) == NULL)
			nl = end;
		linelen = nl - s;
		if (linelen > 0 && s[linelen - 1] == '\r')
			linelen--;
		if (!header) {
			c->out = &t->body;
			tc_line(c, s, linelen, line, nl < end, 1);
			continue;
		}
		if (linelen == 0) {
			header = 0;
			if (subject == 0) {
				diag_error(c->diag, c->file, line,
				    "no Subject: header before the body");
				c->errors++;
			}
			continue;
		}
		if (*s == '#')
			continue;
		colon = memchr(s, ':', linelen);
		if (colon == NULL || colon == s ||
		    !tmpl_tag_name(s, colon - s)) {
			/* Likely no header block at all: one error will do. */
			diag_error(c->diag, c->file, line, "expected "
			    "'Subject: ...' or a blank line before the body");
			c->errors++;
			free(data);
			return;
		}
		if (colon - s != 7 || strncasecmp(s, "subject", 7) != 0) {
			diag_error(c->diag, c->file, line, "unknown header "
			    "'%.*s' (only Subject is allowed)",
			    (int)(colon - s > 64 ? 64 : colon - s), s);
			c->errors++;
			continue;
		}
		if (subject != 0) {
			diag_error(c->diag, c->file, line, "duplicate Subject "
			    "(first at line %u)", subject);
			c->errors++;
			continue;
		}
		subject = line;
		s = colon + 1;
		linelen = nl - s;
		if (linelen > 0 && s[linelen - 1] == '\r')
			linelen--;
		while (linelen > 0 && (*s == ' ' || *s == '\t'))
			s++, linelen--;
		while (linelen > 0 && (s[linelen - 1] == ' ' ||
		    s[linelen - 1] == '\t'))
			linelen--;
		if (linelen == 0) {
			diag_error(c->diag, c->file, line, "empty Subject");
			c->errors++;
			continue;
		}
		c->out = &t->subject;
		tc_line(c, s, linelen, line, 0, 0);
		tc_unclosed(c);
	}
	if (header) {
		diag_error(c->diag, c->file, line, "no blank line between the "
		    "header block and the body");
		c->errors++;
	} else {
		c->out = &t->body;
		tc_unclosed(c);
		if (t->body.n == 0) {
			diag_error(c->diag, c->file, line, "empty body");
			c->errors++;
		}
	}
	free(data);
}

/* Order template file names so diagnostics come in a stable order. */
static int
tmpl_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Should this directory entry be skipped (hidden or a backup)? */
static int
tmpl_skip(const char *name)
{
	size_t	len = strlen(name);

	return (name[0] == '.' || len == 0 || distfiles_is_leftover(name));
}

/* Compile every template file of dir; NULL when any has an error. */
struct tmplset *
tmpl_load(const char *dir, const struct conf *conf, struct diag *diag)
{
	struct tmplset	*set;
	struct tcomp	 c;
	struct dirent	*de;
	struct stat	 st;
	DIR		*dp;
	char		**names = NULL, *path;
	size_t		 n = 0, cap = 0, i;
	unsigned	 errors = 0;

	if ((dp = opendir(dir)) == NULL) {
		diag_error(diag, dir, 0, "%s", strerror(errno));
		return (NULL);
	}
	while ((de = readdir(dp)) != NULL) {
		if (tmpl_skip(de->d_name))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			names = xreallocarray(names, cap, sizeof *names);
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(dp);
	if (n > 0)
		qsort(names, n, sizeof *names, tmpl_cmp);

	set = xcalloc(1, sizeof *set);
	set->v = xcalloc(n == 0 ? 1 : n, sizeof *set->v);
	for (i = 0; i < n; i++) {
		errno = 0;
		path = xasprintf("%s/%s", dir, names[i]);
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
			/* Folders are skipped; anything else is a mistake. */
			if (errno != 0 || !S_ISDIR(st.st_mode)) {
				diag_error(diag, path, 0, "%s", errno != 0 ?
				    strerror(errno) : "not a regular file");
				errors++;
			}
			free(path);
			continue;
		}
		errno = 0;
		memset(&c, 0, sizeof c);
		c.file = path;
		c.conf = conf;
		c.diag = diag;
		set->v[set->n].name = names[i];
		names[i] = NULL;
		tc_file(&c, &set->v[set->n]);
		if (c.errors == 0 && strcmp(set->v[set->n].name, "crisis") == 0)
			tc_crisis(&c, &set->v[set->n]);
		errors += c.errors;
		set->n++;
		free(path);
	}
	xfreev(names, n);
	if (errors > 0) {
		tmpl_free(set);
		return (NULL);
	}
	return (set);
}

/* Free a template set (NULL is fine). */
void
tmpl_free(struct tmplset *set)
{
	size_t	i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++) {
		free(set->v[i].name);
		tnodes_free(&set->v[i].subject);
		tnodes_free(&set->v[i].body);
	}
	free(set->v);
	free(set);
}

/* Find a template by name. */
static const struct tmpl *
tmpl_find(const struct tmplset *set, const char *name)
{
	size_t	i;

	if (set == NULL || name == NULL)
		return (NULL);
	for (i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return (&set->v[i]);
	return (NULL);
}

/* Is there a template called name (for check's cross-reference)? */
int
tmpl_exists(const struct tmplset *set, const char *name)
{
	return (tmpl_find(set, name) != NULL);
}

/* Is the section's condition true for this expansion? */
static int
tmpl_truth(const struct rctx *r, const struct tnode *n)
{
	const char	*v;
	size_t		 i;

	switch (n->var) {
	case TV_PRACTICE:
		v = tmpl_practice(r->conf, n->text);
		return (v != NULL && *v != '\0');
	case TV_SENDER_NAME:
		return (*r->name != '\0');
	case TV_SUBJECT:
		return (*r->subject != '\0');
	case TV_TAG:
		if (r->verdict == NULL)
			return (0);
		for (i = 0; i < r->verdict->ntags; i++)
			if (strcasecmp(r->verdict->tags[i], n->text) == 0)
				return (1);
		return (0);
	case TV_NONE:
		break;
	}
	return (0);
}

/*
 * Expand nodes into b. Values are inserted as they are, never expanded
 * again. Returns -1 with *cause when a value is missing or b's cap is hit.
 */
static int
tmpl_render(const struct tnodes *t, const struct rctx *r, struct buf *b,
    char **cause)
{
	const struct tnode	*n;
	const char		*v;
	char			*clean;
	size_t			 i;

	for (i = 0; i < t->n; i++) {
		n = &t->v[i];
		switch (n->type) {
		case TN_TEXT:
			buf_addstr(b, n->text);
			break;
		case TN_VAR:
			if (n->var == TV_SENDER_NAME)
				buf_addstr(b, r->name);
			else if (n->var == TV_SUBJECT)
				buf_addstr(b, r->subject);
			else {
				if ((v = tmpl_practice(r->conf,
				    n->text)) == NULL) {
					*cause = xasprintf("[practice] key "
					    "'%s' is not configured", n->text);
					return (-1);
				}
				clean = tmpl_clean(v, TMPL_MAX_BODY);
				buf_addstr(b, clean);
				free(clean);
			}
			break;
		case TN_SECTION:
		case TN_INVERTED:
			if (tmpl_truth(r, n) != (n->type == TN_SECTION))
				i = n->end;
			break;
		case TN_CLOSE:
			break;
		}
		if (b->truncated) {
			*cause = xasprintf("expanded text larger than %zu "
			    "bytes", b->max);
			return (-1);
		}
	}
	return (0);
}

/* Is c an RFC 5322 atext character (safe in an unquoted phrase)? */
static int
is_atext(unsigned char c)
{
	return (isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~",
	    c) != NULL));
}

/* Does c separate words of a header value (white space or a control)? */
static int
hdr_sep(char c)
{
	return ((unsigned char)c <= ' ' || (unsigned char)c == 0x7f);
}

/*
 * Append header name: value, folding at spaces so lines stay within 78
 * octets where the words allow. value is ASCII; runs of white space
 * (and any control character, as a last defence) become one fold point.
 */
static void
hdr_put(struct buf *b, const char *name, const char *value)
{
	const char	*s = value, *w;
	size_t		 col, wlen;

	buf_addstr(b, name);
	buf_addch(b, ':');
	col = strlen(name) + 1;
	for (;;) {
		while (*s != '\0' && hdr_sep(*s))
			s++;
		if (*s == '\0')
			break;
		for (w = s; *s != '\0' && !hdr_sep(*s); s++)
			;
		wlen = s - w;
		if (col > strlen(name) + 1 && col + 1 + wlen > TMPL_WRAP) {
			buf_addstr(b, "\r\n");
			col = 0;
		}
		buf_addch(b, ' ');
		buf_add(b, w, wlen);
		col += 1 + wlen;
	}
	buf_addstr(b, "\r\n");
}

/* Base64 of n bytes of p, appended to b. */
static void
b64_add(struct buf *b, const unsigned char *p, size_t n)
{
	char		 out[4];
	unsigned	 v;
	size_t		 i;

	for (i = 0; i < n; i += 3) {
		v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[0] = b64chars[(v >> 18) & 63];
		out[1] = b64chars[(v >> 12) & 63];
		out[2] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		out[3] = i + 2 < n ? b64chars[v & 63] : '=';
		buf_add(b, out, 4);
	}
}

/*
 * RFC 2047 B encoded-words for UTF-8 text s, separated by spaces: at most
 * 42 bytes each, so a word is 68 characters and never splits a character.
 */
static void
rfc2047_add(struct buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), chunk, seq;

	while (n > 0) {
		chunk = 0;
		while (chunk < n) {
			if ((seq = utf8_seq(p + chunk, n - chunk)) == 0)
				seq = 1;
			if (chunk + seq > 42)
				break;
			chunk += seq;
		}
		if (b->len > 0 && b->data[b->len - 1] != ' ')
			buf_addch(b, ' ');
		buf_addstr(b, "=?UTF-8?B?");
		b64_add(b, p, chunk);
		buf_addstr(b, "?=");
		p += chunk;
		n -= chunk;
	}
}

/*
 * Does s need RFC 2047 encoding in an unstructured header: non-ASCII, a
 * literal "=?" or a word too long to fold?
 */
static int
hdr_needs_encoding(const char *s)
{
	size_t	word = 0;

	if (strstr(s, "=?") != NULL)
		return (1);
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return (1);
		word = *s == ' ' ? 0 : word + 1;
		if (word > TMPL_WRAP - 12)
			return (1);
	}
	return (0);
}

/* Append the From: header: display name (quoted or encoded) and address. */
static void
hdr_from(struct buf *b, const char *name, const char *addr)
{
	struct buf	 v;
	const char	*p;
	int		 atoms = 1;

	buf_init(&v, 0);
	if (*name != '\0') {
		for (p = name; *p != '\0'; p++)
			if (!is_atext((unsigned char)*p) && *p != ' ')
				atoms = 0;
		if (hdr_needs_encoding(name))
			rfc2047_add(&v, name);
		else if (atoms)
			buf_addstr(&v, name);
		else {
			buf_addch(&v, '"');
			for (p = name; *p != '\0'; p++) {
				if (*p == '"' || *p == '\\')
					buf_addch(&v, '\\');
				buf_addch(&v, *p);
			}
			buf_addch(&v, '"');
		}
		buf_addch(&v, ' ');
	}
	buf_printf(&v, "<%s>", addr);
	hdr_put(b, "From", buf_str(&v));
	buf_free(&v);
}

/* Is s a usable msg-id: "<...>" of printable ASCII, no spaces or '<>'? */
static int
msgid_valid(const char *s, size_t len)
{
	size_t	i;

	if (len < 3 || len > TMPL_MAX_MSGID || s[0] != '<' ||
	    s[len - 1] != '>')
		return (0);
	for (i = 1; i < len - 1; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f || s[i] == '<' || s[i] == '>')
			return (0);
	return (1);
}

/* The inbound Message-ID, made header-safe and validated, or NULL. */
static char *
msgid_clean(const char *id)
{
	char	*safe;

	if (id == NULL)
		return (NULL);
	safe = mime_header_safe(id);
	if (!msgid_valid(safe, strlen(safe))) {
		free(safe);
		return (NULL);
	}
	return (safe);
}

/*
 * References for the reply: the valid ids of the inbound References
 * (first one and the last ones when there are many), then its Message-ID.
 */
static char *
refs_build(const char *refs, const char *msgid)
{
	struct buf	 b;
	char		*safe, *s, *open, *close;
	char		**ids = NULL;
	size_t		 n = 0, i;

	buf_init(&b, 0);
	safe = mime_header_safe(refs != NULL ? refs : "");
	for (s = safe; (open = strchr(s, '<')) != NULL; s = close + 1) {
		if ((close = strchr(open, '>')) == NULL)
			break;
		if (!msgid_valid(open, close - open + 1) ||
		    ((size_t)(close - open + 1) == strlen(msgid) &&
		    strncmp(open, msgid, close - open + 1) == 0))
			continue;
		ids = xreallocarray(ids, n + 1, sizeof *ids);
		ids[n++] = xstrndup(open, close - open + 1);
	}
	for (i = 0; i < n; i++) {
		if (i == 0 || n - i < TMPL_MAX_REFS - 1)
			buf_printf(&b, "%s ", ids[i]);
		free(ids[i]);
	}
	buf_addstr(&b, msgid);
	free(ids);
	free(safe);
	return (buf_detach(&b, NULL));
}

/* Is the envelope recipient printable ASCII without specials or spaces? */
static int
rcpt_valid(const char *s)
{
	const char	*at;

	if (s == NULL || *s == '\0' || strlen(s) > 254 ||
	    (at = strrchr(s, '@')) == NULL || at == s || at[1] == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("<>(),;:\\\"[]", *s) != NULL)
			return (0);
	return (1);
}

/* Is s a domain we can put in a Message-ID (letters, digits, '.', '-')? */
static int
domain_valid(const char *s)
{
	if (*s == '\0' || strlen(s) > 253)
		return (0);
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-')
			return (0);
	return (1);
}

/* Our configured address equal to addr (any case), or NULL. */
static const char *
ours(const struct conf *conf, const char *addr)
{
	size_t	i;

	if (addr == NULL)
		return (NULL);
	for (i = 0; i < conf->triage.naddresses; i++)
		if (strcasecmp(conf->triage.addresses[i], addr) == 0)
			return (conf->triage.addresses[i]);
	return (NULL);
}

/*
 * The address the client wrote to: the first of ours, in header order,
 * among To and Cc, then Bcc and Resent-To/Cc/Bcc; the [smtp] from address
 * when none is (or it is not usable in a header).
 */
static const char *
written_to(const struct conf *conf, const struct msg *msg)
{
	static const char *const hdrs[] = { "Bcc", "Resent-To", "Resent-Cc",
	    "Resent-Bcc", NULL };
	struct msg_addr	*a;
	const char	*found = NULL;
	size_t		 i, k, j, n;

	for (i = 0; msg != NULL && i < msg->nto && found == NULL; i++)
		found = ours(conf, msg->to[i].addr);
	for (k = 0; msg != NULL && hdrs[k] != NULL && found == NULL; k++) {
		for (i = 0; i < msg->nheaders && found == NULL; i++) {
			if (strcasecmp(msg->headers[i].name, hdrs[k]) != 0)
				continue;
			n = mime_address_list(msg->headers[i].value, &a);
			for (j = 0; j < n && found == NULL; j++)
				found = ours(conf, a[j].addr);
			msg_addrs_free(a, n);
		}
	}
	if (found == NULL || !rcpt_valid(found))
		found = conf->smtp.from_addr;
	return (found);
}

/* The deterministic Message-ID: SHA-256 of seed, "\n" and the template. */
static char *
msgid_make(const char *seed, const char *name, const char *domain,
    char **cause)
{
	unsigned char	 digest[32];
	char		 hex[33], *in;
	size_t		 i;

	in = xasprintf("%s\n%s", seed, name);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, in, strlen(in), digest) < 0) {
		free(in);
		*cause = xstrdup("SHA-256 failed");
		return (NULL);
	}
	free(in);
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return (xasprintf("<triaged.%s@%s>", hex, domain));
}

/* RFC 5322 date-time of t in UTC. */
static void
hdr_date(struct buf *b, time_t t)
{
	static const char	*days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				    "Fri", "Sat" };
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr",
				    "May", "Jun", "Jul", "Aug", "Sep", "Oct",
				    "Nov", "Dec" };
	struct tm		 tm;

	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Number of UTF-8 characters in s[0..len). */
static size_t
utf8_width(const char *s, size_t len)
{
	size_t	i, w = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return (w);
}

/*
 * Wrap the expanded body's lines at spaces to TMPL_WRAP characters (a
 * longer word stays whole), drop leading and trailing blank lines and end
 * with one line end. Lines end in LF here.
 */
static char *
body_wrap(const char *s)
{
	struct buf	 b;
	const char	*line, *end, *brk, *p, *text;
	size_t		 width;

	buf_init(&b, 0);
	while (*s == '\n')
		s++;
	for (line = s; *line != '\0'; line = *end == '\n' ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		while (utf8_width(line, end - line) > TMPL_WRAP) {
			/* The last space that keeps the piece in width. */
			for (text = line; text < end && *text == ' '; text++)
				;
			brk = NULL;
			for (p = text, width = text - line; p < end; p++) {
				if (((unsigned char)*p & 0xc0) != 0x80)
					width++;
				if (*p == ' ' && (width <= TMPL_WRAP + 1 ||
				    brk == NULL))
					brk = p;
				if (width > TMPL_WRAP + 1 && brk != NULL)
					break;
			}
			if (brk == NULL)
				break;
			for (p = brk; p > text && p[-1] == ' '; p--)
				;
			buf_add(&b, line, p - line);
			buf_addch(&b, '\n');
			for (line = brk; line < end && *line == ' '; line++)
				;
		}
		buf_add(&b, line, end - line);
		buf_addch(&b, '\n');
	}
	while (b.len >= 2 && b.data[b.len - 1] == '\n' &&
	    b.data[b.len - 2] == '\n')
		b.data[--b.len] = '\0';
	if (b.len == 1 && b.data[0] == '\n')
		buf_reset(&b);
	return (buf_detach(&b, NULL));
}

/* Must the wrapped body be quoted-printable (8-bit, controls, long)? */
static int
body_needs_qp(const char *s)
{
	size_t	col = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			col = 0;
			continue;
		}
		if (((unsigned char)*s < 0x20 && *s != '\t') ||
		    (unsigned char)*s >= 0x7f || ++col > 998)
			return (1);
	}
	return (0);
}

/* Append the LF-lined body s as CRLF lines, quoted-printable if qp. */
static void
body_add(struct buf *b, const char *s, int qp)
{
	const unsigned char	*p, *end;
	char			 esc[4];
	size_t			 col, tok;
	int			 enc;

	while (*s != '\0') {
		end = (const unsigned char *)s + strcspn(s, "\n");
		if (!qp)
			buf_add(b, s, (const char *)end - s);
		for (p = (const unsigned char *)s, col = 0; qp && p < end;
		    p++) {
			enc = *p == '=' || (*p < 0x20 && *p != '\t') ||
			    *p >= 0x7f || ((*p == ' ' || *p == '\t') &&
			    p + 1 == end);
			tok = enc ? 3 : 1;
			if (col + tok > 75) {
				buf_addstr(b, "=\r\n");
				col = 0;
			}
			if (enc) {
				snprintf(esc, sizeof esc, "=%02X", *p);
				buf_add(b, esc, 3);
			} else
				buf_addch(b, (char)*p);
			col += tok;
		}
		buf_addstr(b, "\r\n");
		s = *end == '\n' ? (const char *)end + 1 : (const char *)end;
	}
}

/*
 * Expand template name for msg and wrap it into a complete reply; nothing
 * taken from the inbound mail reaches a header unless made safe first.
 */
int
tmpl_compose(const struct tmplset *set, const char *name,
    const struct conf *conf, const struct msg *msg,
    const struct verdict *verdict, const char *rcpt, const char *seed,
    time_t now, struct reply *reply, char **cause)
{
	const struct tmpl	*t;
	const char		*domain, *from;
	struct rctx		 r;
	struct buf		 b, m;
	char			*subject = NULL, *sname = NULL, *ssubj = NULL;
	char			*body = NULL, *wrapped = NULL, *id = NULL;
	char			*inreply = NULL, *refs = NULL, *fname = NULL;
	int			 qp, rc = -1;

	memset(reply, 0, sizeof *reply);
	buf_init(&b, TMPL_MAX_BODY);
	buf_init(&m, TMPL_MAX_MSG);
	if ((t = tmpl_find(set, name)) == NULL) {
		*cause = xstrdup("no such template");
		goto out;
	}
	if (!rcpt_valid(rcpt)) {
		*cause = xstrdup("unusable recipient address");
		goto out;
	}
	if (conf == NULL || conf->smtp.from_addr == NULL ||
	    !rcpt_valid(conf->smtp.from_addr) ||
	    !domain_valid(domain = strrchr(conf->smtp.from_addr, '@') + 1)) {
		*cause = xstrdup("unusable [smtp] from address");
		goto out;
	}
	if (seed == NULL) {
		*cause = xstrdup("no Message-ID seed");
		goto out;
	}

	r.conf = conf;
	r.verdict = verdict;
	r.name = sname = tmpl_sender_name(msg);
	r.subject = ssubj = tmpl_clean(msg != NULL ? msg->subject : NULL,
	    TMPL_MAX_VALUE);

	/* Subject: expanded, cleaned again, a fixed one when empty. */
	b.max = TMPL_MAX_SUBJ;
	if (tmpl_render(&t->subject, &r, &b, cause) == -1)
		goto out;
	subject = tmpl_clean(buf_str(&b), TMPL_MAX_SUBJ);
	if (*subject == '\0') {
		free(subject);
		subject = xstrdup(TMPL_FALLBACK_SUBJECT);
	}
	buf_free(&b);
	buf_init(&b, TMPL_MAX_BODY);
	if (tmpl_render(&t->body, &r, &b, cause) == -1)
		goto out;
	body = buf_detach(&b, NULL);
	wrapped = body_wrap(body);
	qp = body_needs_qp(wrapped);

	if ((id = msgid_make(seed, t->name, domain, cause)) == NULL)
		goto out;
	inreply = msgid_clean(msg != NULL ? msg->message_id : NULL);
	if (inreply != NULL)
		refs = refs_build(msg->references, inreply);

	hdr_date(&m, now);
	fname = tmpl_clean(conf->smtp.from_name, 256);
	from = written_to(conf, msg);
	hdr_from(&m, fname, from);
	buf_printf(&m, "To: %s\r\n", rcpt);
	if (hdr_needs_encoding(subject)) {
		buf_free(&b);
		rfc2047_add(&b, subject);
		hdr_put(&m, "Subject", buf_str(&b));
	} else
		hdr_put(&m, "Subject", subject);
	buf_printf(&m, "Message-ID: %s\r\n", id);
	if (inreply != NULL) {
		hdr_put(&m, "In-Reply-To", inreply);
		hdr_put(&m, "References", refs);
	}
	buf_addstr(&m, "Auto-Submitted: auto-replied\r\n"
	    "Precedence: bulk\r\n"
	    "X-Auto-Response-Suppress: All\r\n");
	/* RFC 5230 loop detection: our own guard suppresses this header. */
	buf_printf(&m, "X-Loop: %s\r\n", from);
	buf_addstr(&m, "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n");
	buf_printf(&m, "Content-Transfer-Encoding: %s\r\n\r\n",
	    qp ? "quoted-printable" : "7bit");
	body_add(&m, wrapped, qp);
	if (m.truncated) {
		*cause = xasprintf("reply larger than %d bytes", TMPL_MAX_MSG);
		goto out;
	}

	reply->rcpt = xstrdup(rcpt);
	reply->subject = subject;
	subject = NULL;
	reply->message_id = id;
	id = NULL;
	reply->data = buf_detach(&m, &reply->len);
	rc = 0;
out:
	buf_free(&b);
	buf_free(&m);
	free(subject);
	free(sname);
	free(ssubj);
	free(body);
	free(wrapped);
	free(id);
	free(inreply);
	free(refs);
	free(fname);
	return (rc);
}

/* Free what a reply owns and clear it (NULL is fine). */
void
reply_free(struct reply *reply)
{
	if (reply == NULL)
		return;
	free(reply->rcpt);
	free(reply->subject);
	free(reply->message_id);
	free(reply->data);
	memset(reply, 0, sizeof *reply);
}
