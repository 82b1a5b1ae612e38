/*
 * Word lists and proximity for rule patterns, as pattern source: see
 * words.h. A list is expanded where it is used, so a rule that names
 * $pills reads as the words a practice means, and one list serves many
 * rules.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "words.h"
#include "xmalloc.h"

void
words_init(struct words *w)
{
	memset(w, 0, sizeof *w);
}

void
words_free(struct words *w)
{
	size_t	i;

	for (i = 0; i < w->n; i++) {
		free(w->names[i]);
		free(w->srcs[i]);
	}
	free(w->names);
	free(w->srcs);
	memset(w, 0, sizeof *w);
}

const char *
words_find(const struct words *w, const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		if (strlen(w->names[i]) == len &&
		    memcmp(w->names[i], name, len) == 0)
			return (w->srcs[i]);
	return (NULL);
}

int
words_add(struct words *w, const char *name, const char *src)
{
	if (words_find(w, name, strlen(name)) != NULL)
		return (-1);
	w->names = xreallocarray(w->names, w->n + 1, sizeof *w->names);
	w->srcs = xreallocarray(w->srcs, w->n + 1, sizeof *w->srcs);
	w->names[w->n] = xstrdup(name);
	w->srcs[w->n] = xstrdup(src);
	w->n++;
	return (0);
}

/* Characters of a list name after the '$': letters, digits, '_', '-'. */
static size_t
words_name_len(const char *p)
{
	size_t	n = 0;

	if (!isalpha((unsigned char)*p))
		return (0);
	while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-')
		n++;
	return (n);
}

char *
words_expand(const struct words *w, const char *src, size_t *bad)
{
	struct buf	 b;
	const char	*p, *list;
	size_t		 len;
	int		 inclass = 0;

	buf_init(&b, 0);
	for (p = src; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			buf_add(&b, p, 2);
			p++;
			continue;
		}
		/* Inside [...] a '$' is a plain character. */
		if (*p == '[')
			inclass = 1;
		else if (*p == ']')
			inclass = 0;
		if (*p != '$' || inclass ||
		    (len = words_name_len(p + 1)) == 0) {
			buf_addch(&b, *p);
			continue;
		}
		if ((list = words_find(w, p + 1, len)) == NULL) {
			*bad = (size_t)(p - src);
			buf_free(&b);
			return (NULL);
		}
		buf_addstr(&b, "(?:");
		buf_addstr(&b, list);
		buf_addch(&b, ')');
		p += len;
	}
	return (buf_detach(&b, NULL));
}

char *
words_near(const char *a, const char *b, unsigned n)
{
	/*
	 * Words are runs of \w (letters of any script with UCP). The gaps
	 * between them stay in one sentence: no ".", "!", "?" or ";" before
	 * a space (an ellipsis "..." trails off, it does not end), no line
	 * break (the rules see a paragraph's end as one,
	 * see text_flatten): "...the pills again. I need support for
	 * myself" is two thoughts.
	 */
#define GAP	"(?:(?!(?<!\\.)[.!?;](?:\\s|$))[^\\w\\n])+"
	return (xasprintf("(?:%s)(?:" GAP "\\w+){0,%u}?" GAP "(?:%s)|"
	    "(?:%s)(?:" GAP "\\w+){0,%u}?" GAP "(?:%s)", a, n, b, b, n, a));
#undef GAP
}
