/*
 * MIME: turn one raw message into the clean UTF-8 fields of struct msg.
 *
 * libetpan parses the MIME tree, decodes transfer encodings, RFC 2047
 * words and addresses; everything it returns is copied out, repaired to
 * valid UTF-8 and stripped of control characters here, so no libetpan
 * type leaves this file. The raw bytes are capped, and the nesting depth
 * is pre-scanned before mailmime_parse, whose cost is quadratic in depth
 * (LIBRARIES.md TL;DR #6).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "mime.h"
#include "xmalloc.h"

#define MIME_MAX_HEADERS	10000	/* headers kept per message */
#define MIME_MAX_ADDRS		1000	/* mailboxes kept per header */
#define MIME_MAX_REFS		20	/* message-ids kept in references */
#define MIME_MAX_ADDR_TEXT	65536	/* bytes of an address header parsed */

struct mime_walk {
	const struct mime_limits *lim;
	struct buf		 text;		/* the writer's parts */
	struct buf		 fwd;		/* message/rfc822 parts */
	unsigned		 parts;
	int			 is_report;
	int			 truncated;
};

struct mime_line {
	const char	*p;
	size_t		 len;		/* without trailing whitespace */
	size_t		 rawlen;	/* as written */
};

/* The defaults: 1 MiB raw, depth 20, 100 parts, 256 KiB of text. */
void
mime_limits_default(struct mime_limits *lim)
{
	lim->max_bytes = 1024 * 1024;
	lim->max_depth = 20;
	lim->max_parts = 100;
	lim->max_text = 256 * 1024;
}

/* Length of the valid UTF-8 sequence at p (max n bytes), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	uint32_t	cp;
	size_t		len, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return (0);
	if (len > n)
		return (0);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (len);
}

/* Is p[0..n) valid UTF-8? Decides how to read undeclared 8-bit text. */
static int
utf8_valid(const char *p, size_t n)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 i = 0, k;

	while (i < n) {
		if ((k = utf8_seq(u + i, n - i)) == 0)
			return (0);
		i += k;
	}
	return (1);
}

/* Append code point cp as UTF-8. */
static void
utf8_put(struct buf *b, uint32_t cp)
{
	char	s[4];

	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		buf_addch(b, (char)cp);
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, s, 2);
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, s, 3);
	} else {
		s[0] = (char)(0xf0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, s, 4);
	}
}

/*
 * Append p[0..n) as valid UTF-8: bad bytes become U+FFFD, NUL and the C0
 * controls other than TAB, LF and CR are dropped, so no field ever holds
 * them.
 */
static void
utf8_repair(struct buf *b, const char *p, size_t n)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 i = 0, k;

	while (i < n) {
		if ((k = utf8_seq(u + i, n - i)) == 0) {
			utf8_put(b, 0xfffd);
			i++;
		} else if (k == 1 && u[i] < 0x20 && u[i] != '\t' &&
		    u[i] != '\n' && u[i] != '\r') {
			i++;
		} else {
			buf_add(b, p + i, k);
			i += k;
		}
	}
}

/* Append windows-1252 text as UTF-8; also serves ISO-8859-1 and ASCII. */
static void
cp1252_to_utf8(struct buf *b, const char *p, size_t n)
{
	static const uint16_t	 hi[32] = {
		0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
		0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd,
		0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
		0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178
	};
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (u[i] >= 0x80 && u[i] < 0xa0)
			utf8_put(b, hi[u[i] - 0x80]);
		else if (u[i] >= 0x80)
			utf8_put(b, u[i]);
		else if (u[i] >= 0x20 || u[i] == '\t' || u[i] == '\n' ||
		    u[i] == '\r')
			buf_addch(b, (char)u[i]);
	}
}

/* Does the (lowercased) charset label name one of the 8-bit Latin sets? */
static int
charset_is_latin(const char *cs)
{
	static const char *const latin[] = {
		"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1",
		"l1", "windows-1252", "cp1252", "x-cp1252", "cp819", NULL
	};
	size_t	i;

	for (i = 0; latin[i] != NULL; i++)
		if (strcmp(cs, latin[i]) == 0)
			return (1);
	return (0);
}

/*
 * Append p[0..n), written in charset cs, as UTF-8. Labels that promise
 * nothing (none, us-ascii, unknown) are read as UTF-8 when that is valid,
 * else as windows-1252; Latin-1 labels as windows-1252 (what senders
 * mean); others through iconv. The text is never dropped.
 */
static void
text_to_utf8(struct buf *b, const char *p, size_t n, const char *cs)
{
	char	 label[64], *out = NULL;
	size_t	 i, j, outlen = 0;

	j = 0;
	for (i = 0; cs != NULL && cs[i] != '\0' && j < sizeof label - 1; i++)
		if (cs[i] != '"' && !isspace((unsigned char)cs[i]))
			label[j++] = (char)tolower((unsigned char)cs[i]);
	label[j] = '\0';

	if (strcmp(label, "utf-8") == 0 || strcmp(label, "utf8") == 0) {
		utf8_repair(b, p, n);
		return;
	}
	if (charset_is_latin(label)) {
		cp1252_to_utf8(b, p, n);
		return;
	}
	if (*label != '\0' && strcmp(label, "us-ascii") != 0 &&
	    strcmp(label, "ascii") != 0 &&
	    charconv_buffer("utf-8", label, p, n, &out, &outlen) ==
	    MAIL_CHARCONV_NO_ERROR) {
		utf8_repair(b, out, outlen);
		charconv_buffer_free(out);
		return;
	}
	if (utf8_valid(p, n))
		utf8_repair(b, p, n);
	else
		cp1252_to_utf8(b, p, n);
}

/*
 * Copy s for a header: CR, LF and TAB runs become one space, other
 * control characters (C0, DEL, C1) go, bad UTF-8 becomes U+FFFD, so a
 * decoded word can never inject a header line.
 */
char *
mime_header_safe(const char *s)
{
	struct buf		 b, tmp;
	const unsigned char	*u;
	size_t			 i, k, n;
	int			 space = 0;

	buf_init(&b, 0);
	if (s == NULL)
		return (buf_detach(&b, NULL));
	buf_init(&tmp, 0);
	utf8_repair(&tmp, s, strlen(s));
	u = (const unsigned char *)buf_str(&tmp);
	n = tmp.len;
	for (i = 0; i < n; i += k) {
		k = utf8_seq(u + i, n - i);
		if (k == 0)
			k = 1;
		if (u[i] == '\r' || u[i] == '\n' || u[i] == '\t') {
			if (!space)
				buf_addch(&b, ' ');
			space = 1;
			continue;
		}
		space = 0;
		if ((k == 1 && (u[i] < 0x20 || u[i] == 0x7f)) ||
		    (k == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0))
			continue;
		buf_add(&b, u + i, k);
	}
	buf_free(&tmp);
	return (buf_detach(&b, NULL));
}

/* Trim ASCII whitespace from both ends of [*p, *p + *n). */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**p))
		(*p)++, (*n)--;
	while (*n > 0 && isspace((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

/*
 * Decode an RFC 2047 phrase (a header value or display name) to a
 * header-safe UTF-8 string the caller frees. Raw 8-bit outside encoded
 * words is read as UTF-8 when valid, else as windows-1252.
 */
static char *
decode_phrase(const char *s, size_t n)
{
	struct buf	 b;
	char		*dec = NULL, *safe, *tmp;
	size_t		 idx = 0;

	trim(&s, &n);
	buf_init(&b, 0);
	if (utf8_valid(s, n))
		utf8_repair(&b, s, n);
	else
		cp1252_to_utf8(&b, s, n);
	if (b.len > 0 && memchr(b.data, '=', b.len) != NULL &&
	    mailmime_encoded_phrase_parse("utf-8", b.data, b.len, &idx,
	    "utf-8", &dec) == MAILIMF_NO_ERROR && dec != NULL) {
		/* Should the parser stop early, keep the rest as written. */
		if (idx < b.len) {
			tmp = xasprintf("%s %s", dec, b.data + idx);
			free(dec);
			dec = tmp;
		}
		safe = mime_header_safe(dec);
		free(dec);
	} else {
		free(dec);
		safe = mime_header_safe(buf_str(&b));
	}
	buf_free(&b);
	return (safe);
}

/* Case-insensitive: does s (n bytes) start with the NUL-terminated pfx? */
static int
prefix_ci(const char *s, size_t n, const char *pfx)
{
	size_t	k = strlen(pfx);

	return (n >= k && strncasecmp(s, pfx, k) == 0);
}

/* Case-insensitive: does s (n bytes) end with sfx? */
static int
suffix_ci(const char *s, size_t n, const char *sfx)
{
	size_t	k = strlen(sfx);

	return (n >= k && strncasecmp(s + n - k, sfx, k) == 0);
}

/* Case-insensitive search for needle in s[0..n). */
static const char *
find_ci(const char *s, size_t n, const char *needle)
{
	size_t	k = strlen(needle), i;

	for (i = 0; k <= n && i <= n - k; i++)
		if (strncasecmp(s + i, needle, k) == 0)
			return (s + i);
	return (NULL);
}

/*
 * Copy raw into a NUL-terminated buffer the parsers can trust: cut at
 * max_bytes, drop a leading mbox "From " line, NULs become spaces, bare
 * CRs become LFs, and the text ends with a newline (so a last header
 * without one is still a header).
 */
static char *
prepare(const char *raw, size_t len, size_t max, size_t *outlen, int *cut)
{
	char	*b;
	size_t	 i, j, start = 0;

	if (max > 0 && len > max) {
		len = max;
		*cut = 1;
	}
	if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
		while (start < len && raw[start] != '\n')
			start++;
		if (start < len)
			start++;
	}
	b = xmalloc(len - start + 2);
	for (i = start, j = 0; i < len; i++) {
		if (raw[i] == '\0')
			b[j++] = ' ';
		else if (raw[i] == '\r' && (i + 1 == len || raw[i + 1] != '\n'))
			b[j++] = '\n';
		else
			b[j++] = raw[i];
	}
	if (j == 0 || b[j - 1] != '\n')
		b[j++] = '\n';
	b[j] = '\0';
	*outlen = j;
	return (b);
}

/*
 * Pre-scan the MIME structure for its nesting depth and part count
 * without libetpan, in linear time: a stack of the multipart boundaries
 * and message/rfc822 levels seen so far. Returns 0 when both stay
 * within the limits, -1 otherwise.
 */
static int
prescan(const char *b, size_t len, const struct mime_limits *lim)
{
	struct frame {
		const char	*bnd;	/* NULL: a message/rfc822 level */
		size_t		 blen;
	} stack[64];
	const char	*p = b, *end = b + len, *e, *v, *bnd = NULL;
	size_t		 n, depth = 0, maxdepth, blen = 0, i, parts = 0;
	int		 inhdr = 1, inct = 0, multi = 0, msg = 0;

	maxdepth = lim->max_depth;
	if (maxdepth >= sizeof stack / sizeof stack[0])
		maxdepth = sizeof stack / sizeof stack[0] - 1;
	for (; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', end - p)) == NULL)
			e = end;
		n = e - p;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (inhdr && n == 0) {
			/* End of a header block: what does its body hold? */
			inhdr = 0;
			if ((multi && bnd != NULL) || msg) {
				if (depth >= maxdepth)
					return (-1);
				stack[depth].bnd = multi ? bnd : NULL;
				stack[depth].blen = blen;
				depth++;
				inhdr = !multi;
			}
			multi = msg = inct = 0;
			bnd = NULL;
			continue;
		}
		if (inhdr) {
			if (n > 0 && (*p == ' ' || *p == '\t'))
				v = p;
			else if ((inct = prefix_ci(p, n, "content-type:")))
				v = p + 13;
			else
				continue;
			if (!inct)
				continue;
			n -= v - p;
			if (find_ci(v, n, "multipart/") != NULL)
				multi = 1;
			if (find_ci(v, n, "message/rfc822") != NULL)
				msg = 1;
			if ((v = find_ci(v, n, "boundary=")) != NULL) {
				v += 9;
				n = e - v;
				if (n > 0 && *v == '"') {
					v++, n--;
					for (blen = 0; blen < n &&
					    v[blen] != '"'; blen++)
						;
				} else {
					for (blen = 0; blen < n &&
					    v[blen] != ';' &&
					    !isspace((unsigned char)v[blen]);
					    blen++)
						;
				}
				bnd = blen > 0 ? v : NULL;
			}
			continue;
		}
		if (n < 3 || p[0] != '-' || p[1] != '-')
			continue;
		for (i = depth; i > 0; i--) {
			if (stack[i - 1].bnd == NULL ||
			    n - 2 < stack[i - 1].blen ||
			    memcmp(p + 2, stack[i - 1].bnd,
			    stack[i - 1].blen) != 0)
				continue;
			depth = i;
			v = p + 2 + stack[i - 1].blen;
			if (v + 1 < p + n && v[0] == '-' && v[1] == '-') {
				depth--;
			} else {
				inhdr = 1;
				if (++parts > lim->max_parts)
					return (-1);
			}
			break;
		}
	}
	return (0);
}

/* "type/subtype" of a libetpan content type, lowercase, caller frees. */
static char *
content_type_str(const struct mailmime_content *ct)
{
	const char	*type = "text", *sub;
	char		*s, *q;

	if (ct == NULL)
		return (xstrdup("text/plain"));
	if (ct->ct_type != NULL &&
	    ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	    ct->ct_type->tp_data.tp_discrete_type != NULL) {
		switch (ct->ct_type->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_IMAGE:
			type = "image";
			break;
		case MAILMIME_DISCRETE_TYPE_AUDIO:
			type = "audio";
			break;
		case MAILMIME_DISCRETE_TYPE_VIDEO:
			type = "video";
			break;
		case MAILMIME_DISCRETE_TYPE_APPLICATION:
			type = "application";
			break;
		case MAILMIME_DISCRETE_TYPE_EXTENSION:
			type = ct->ct_type->tp_data.tp_discrete_type->
			    dt_extension;
			break;
		}
	} else if (ct->ct_type != NULL &&
	    ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	    ct->ct_type->tp_data.tp_composite_type != NULL) {
		switch (ct->ct_type->tp_data.tp_composite_type->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE:
			type = "message";
			break;
		case MAILMIME_COMPOSITE_TYPE_MULTIPART:
			type = "multipart";
			break;
		default:
			type = ct->ct_type->tp_data.tp_composite_type->
			    ct_token;
			break;
		}
	}
	sub = ct->ct_subtype;
	s = xasprintf("%s/%s", type != NULL ? type : "x",
	    sub != NULL ? sub : "x");
	for (q = s; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	q = mime_header_safe(s);
	free(s);
	return (q);
}

/* Is this part an attachment (Content-Disposition: attachment)? */
static int
is_attachment(const struct mailmime *m)
{
	clistiter		*it;
	struct mailmime_field	*f;

	if (m->mm_mime_fields == NULL || m->mm_mime_fields->fld_list == NULL)
		return (0);
	for (it = clist_begin(m->mm_mime_fields->fld_list); it != NULL;
	    it = clist_next(it)) {
		f = clist_content(it);
		if (f->fld_type == MAILMIME_FIELD_DISPOSITION &&
		    f->fld_data.fld_disposition != NULL &&
		    f->fld_data.fld_disposition->dsp_type != NULL &&
		    f->fld_data.fld_disposition->dsp_type->dsp_type ==
		    MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return (1);
	}
	return (0);
}

/* HTML reduction state: pending space, blank-line cap, blockquotes. */
struct html_out {
	struct buf	*b;
	int		 bol;		/* at the start of a line */
	int		 nl;		/* newlines just written */
	int		 space;		/* a space is pending */
	int		 quote;		/* blockquote depth */
	int		 pre;		/* inside <pre> */
};

/* Write text bytes, with the "> " prefix of open blockquotes. */
static void
html_text(struct html_out *o, const char *s, size_t n)
{
	int	i;

	if (n == 0)
		return;
	if (o->bol)
		for (i = 0; i < o->quote && i < 32; i++)
			buf_add(o->b, "> ", 2);
	else if (o->space)
		buf_addch(o->b, ' ');
	buf_add(o->b, s, n);
	o->bol = o->nl = o->space = 0;
}

/* End the line; at most one blank line in a row. */
static void
html_newline(struct html_out *o)
{
	if (o->nl < 2)
		buf_addch(o->b, '\n');
	o->nl++;
	o->bol = 1;
	o->space = 0;
}

/* Decode the entity at s[0..n) (s[0] == '&'); returns bytes used. */
static size_t
html_entity(struct html_out *o, const char *s, size_t n)
{
	static const struct {
		const char	*name;
		uint32_t	 cp;
	} ent[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
		{ "apos", '\'' }, { "nbsp", ' ' }, { "shy", 0 },
		{ "copy", 0xa9 }, { "reg", 0xae }, { "trade", 0x2122 },
		{ "hellip", 0x2026 }, { "mdash", 0x2014 }, { "ndash", 0x2013 },
		{ "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "sbquo", 0x201a },
		{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "bdquo", 0x201e },
		{ "laquo", 0xab }, { "raquo", 0xbb }, { "euro", 0x20ac },
		{ "pound", 0xa3 }, { "sect", 0xa7 }, { "deg", 0xb0 },
		{ "middot", 0xb7 }, { "bull", 0x2022 }, { "times", 0xd7 },
		{ "auml", 0xe4 }, { "ouml", 0xf6 }, { "uuml", 0xfc },
		{ "Auml", 0xc4 }, { "Ouml", 0xd6 }, { "Uuml", 0xdc },
		{ "szlig", 0xdf }, { "eacute", 0xe9 }, { "egrave", 0xe8 },
		{ "ecirc", 0xea }, { "aacute", 0xe1 }, { "agrave", 0xe0 },
		{ "acirc", 0xe2 }, { "ccedil", 0xe7 }, { "iacute", 0xed },
		{ "oacute", 0xf3 }, { "uacute", 0xfa }, { "ntilde", 0xf1 },
		{ "Eacute", 0xc9 }, { "oslash", 0xf8 }, { "aring", 0xe5 },
		{ NULL, 0 }
	};
	struct buf	 tmp;
	uint32_t	 cp = 0;
	size_t		 i, k;
	int		 hex = 0, found = 0;

	for (i = 1; i < n && i < 10 && isalnum((unsigned char)s[i]); i++)
		;
	if (i > 1 && i < n && s[i] == ';') {
		for (k = 0; ent[k].name != NULL; k++) {
			if (strlen(ent[k].name) == i - 1 &&
			    strncmp(s + 1, ent[k].name, i - 1) == 0) {
				cp = ent[k].cp;
				found = 1;
				break;
			}
		}
		i++;
	} else if (i == 1 && i < n && s[i] == '#') {
		i++;
		if (i < n && (s[i] == 'x' || s[i] == 'X'))
			hex = 1, i++;
		k = i;
		while (i < n && i - k < 8 && (hex ?
		    isxdigit((unsigned char)s[i]) :
		    isdigit((unsigned char)s[i]))) {
			cp = cp * (hex ? 16 : 10) + (uint32_t)(isdigit(
			    (unsigned char)s[i]) ? s[i] - '0' :
			    tolower((unsigned char)s[i]) - 'a' + 10);
			i++;
		}
		found = i > k;
		if (found && i < n && s[i] == ';')
			i++;
		if (found && cp == 0)
			cp = 0xfffd;
	}
	if (!found) {
		html_text(o, "&", 1);
		return (1);
	}
	if (cp == 0)				/* soft hyphen */
		return (i);
	if (cp == 0xa0 || cp == ' ' || cp == '\t' || cp == '\n' ||
	    cp == '\r') {
		o->space = !o->bol;
		return (i);
	}
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		cp = 0xfffd;
	buf_init(&tmp, 0);
	utf8_put(&tmp, cp);
	html_text(o, tmp.data, tmp.len);
	buf_free(&tmp);
	return (i);
}

/*
 * Reduce HTML to text: script, style and head go, tags go, block
 * elements become line breaks, blockquotes become "> " lines, entities
 * are decoded and runs of whitespace collapse. Linear in the input.
 */
static void
html_to_text(struct buf *b, const char *s, size_t n)
{
	static const char *const skip[] = { "script", "style", "head",
	    "title", NULL };
	static const char *const block[] = { "br", "p", "div", "li", "tr",
	    "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr",
	    "dt", "dd", "pre", "blockquote", "section", "article",
	    "header", "footer", NULL };
	struct html_out	 o;
	const char	*e, *q;
	char		 name[16], close[20];
	size_t		 i = 0, j, k, nlen;
	int		 end, qi, noclose[4] = { 0, 0, 0, 0 };
	int		 noquote[2] = { 0, 0 };

	memset(&o, 0, sizeof o);
	o.b = b;
	o.bol = 1;
	o.nl = 2;
	while (i < n) {
		if (s[i] == '&') {
			i += html_entity(&o, s + i, n - i);
			continue;
		}
		if (s[i] != '<') {
			if (isspace((unsigned char)s[i]) && !o.pre) {
				o.space = !o.bol;
			} else if (s[i] == '\n') {
				html_newline(&o);
			} else {
				for (j = i + 1; j < n && s[j] != '<' &&
				    s[j] != '&' && (o.pre ||
				    !isspace((unsigned char)s[j])) &&
				    s[j] != '\n'; j++)
					;
				html_text(&o, s + i, j - i);
				i = j;
				continue;
			}
			i++;
			continue;
		}
		/* A comment, declaration or processing instruction. */
		if (prefix_ci(s + i, n - i, "<!--")) {
			q = find_ci(s + i + 4, n - i - 4, "-->");
			i = q != NULL ? (size_t)(q - s) + 3 : n;
			continue;
		}
		j = i + 1;
		end = j < n && s[j] == '/';
		if (end)
			j++;
		for (nlen = 0; j < n && nlen < sizeof name - 1 &&
		    isalnum((unsigned char)s[j]); j++)
			name[nlen++] = (char)tolower((unsigned char)s[j]);
		name[nlen] = '\0';
		if (nlen == 0 && !(j < n && (s[j] == '!' || s[j] == '?'))) {
			html_text(&o, "<", 1);	/* a bare "<" in text */
			i++;
			continue;
		}
		/*
		 * Skip to the end of the tag, minding quoted attributes;
		 * once a quote has no partner, it never will (linear).
		 */
		for (; j < n && s[j] != '>'; j++) {
			if (s[j] != '"' && s[j] != '\'')
				continue;
			qi = s[j] == '"';
			if (noquote[qi])
				continue;
			if ((e = memchr(s + j + 1, s[j], n - j - 1)) == NULL)
				noquote[qi] = 1;
			else
				j = e - s;
		}
		i = j < n ? j + 1 : n;
		if (nlen == 0)
			continue;
		for (k = 0; !end && skip[k] != NULL; k++) {
			if (strcmp(name, skip[k]) != 0 || noclose[k])
				continue;
			(void)snprintf(close, sizeof close, "</%s", name);
			if ((q = find_ci(s + i, n - i, close)) != NULL) {
				e = memchr(q, '>', n - (q - s));
				i = e != NULL ? (size_t)(e - s) + 1 : n;
			} else if (k < 2)
				i = n;		/* unclosed script/style */
			else
				noclose[k] = 1;
			break;
		}
		if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
			o.space = !o.bol;
			continue;
		}
		for (k = 0; block[k] != NULL; k++)
			if (strcmp(name, block[k]) == 0)
				break;
		if (block[k] == NULL)
			continue;
		if (strcmp(name, "br") == 0) {
			if (o.nl < 2 || !o.bol)
				html_newline(&o);
			continue;
		}
		if (!o.bol)
			html_newline(&o);
		if (strcmp(name, "blockquote") == 0) {
			if (end && o.quote > 0)
				o.quote--;
			else if (!end)
				o.quote++;
		} else if (strcmp(name, "pre") == 0)
			o.pre = !end;
		else if (strcmp(name, "p") == 0 && !end && o.nl < 2)
			html_newline(&o);
	}
}

/* Append a separator when the buffer already holds text. */
static void
add_separator(struct buf *b)
{
	if (b->len > 0)
		buf_add(b, "\n\n", 2);
}

/* Did the buffer gain non-whitespace text after offset from? */
static int
gained_text(const struct buf *b, size_t from)
{
	size_t	i;

	for (i = from; i < b->len; i++)
		if (!isspace((unsigned char)b->data[i]))
			return (1);
	return (0);
}

/* Cut a buffer back to len bytes. */
static void
buf_cut(struct buf *b, size_t len)
{
	if (b->data != NULL && len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/* Decode one leaf part into the text (or forwarded) buffer. */
static int
walk_single(struct mime_walk *w, struct mailmime *m, int inmsg)
{
	struct mailmime_data	*d = m->mm_data.mm_single;
	struct buf		*out = inmsg ? &w->fwd : &w->text;
	struct buf		 u;
	char			*type, *dec = NULL;
	const char		*cs = NULL, *p;
	size_t			 idx = 0, len, from;
	int			 html, r;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT || is_attachment(m))
		return (0);
	/* A multipart without a boundary arrives as one part: text. */
	type = content_type_str(m->mm_content_type);
	html = strcmp(type, "text/html") == 0;
	r = html || strcmp(type, "text/plain") == 0 ||
	    strncmp(type, "multipart/", 10) == 0;
	free(type);
	if (!r)
		return (0);
	p = d->dt_data.dt_text.dt_data;
	len = d->dt_data.dt_text.dt_length;
	if (p == NULL)
		return (0);
	if (d->dt_encoded && mailmime_part_parse(p, len, &idx, d->dt_encoding,
	    &dec, &len) == MAILIMF_NO_ERROR)
		p = dec;
	else
		dec = NULL;
	if (m->mm_content_type != NULL)
		cs = mailmime_content_charset_get(m->mm_content_type);
	buf_init(&u, w->lim->max_bytes);
	text_to_utf8(&u, p, len, cs);
	if (dec != NULL)
		mailmime_decoded_part_free(dec);
	from = out->len;
	add_separator(out);
	if (html)
		html_to_text(out, buf_str(&u), u.len);
	else
		buf_add(out, buf_str(&u), u.len);
	buf_free(&u);
	if (!gained_text(out, from)) {
		buf_cut(out, from);
		return (0);
	}
	return (1);
}

static int	walk(struct mime_walk *, struct mailmime *, unsigned, int);

/* Score a multipart/alternative child: plain text best, then nested. */
static int
alternative_score(struct mailmime *c)
{
	char	*type;
	int	 score = 0;

	if (c->mm_type == MAILMIME_MULTIPLE)
		return (2);
	if (c->mm_type != MAILMIME_SINGLE || is_attachment(c))
		return (0);
	type = content_type_str(c->mm_content_type);
	if (strcmp(type, "text/plain") == 0)
		score = 3;
	else if (strcmp(type, "text/html") == 0)
		score = 1;
	free(type);
	return (score);
}

/*
 * multipart/alternative: walk the best child that yields any text
 * (text/plain, then a nested multipart, then text/html).
 */
static int
walk_alternative(struct mime_walk *w, clist *list, unsigned depth,
    int inmsg)
{
	clistiter	*it;
	int		 score;

	for (score = 3; score > 0; score--) {
		for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
			if (alternative_score(clist_content(it)) != score)
				continue;
			if (walk(w, clist_content(it), depth + 1, inmsg))
				return (1);
		}
	}
	return (0);
}

/*
 * Walk the MIME tree in order, collecting text; inmsg is set below a
 * message/rfc822 part, whose text is forwarded history. Returns 1 if
 * any text was added.
 */
static int
walk(struct mime_walk *w, struct mailmime *m, unsigned depth, int inmsg)
{
	clistiter	*it;
	char		*type;
	int		 added = 0, alt;

	if (m == NULL)
		return (0);
	/* depth counts the top message node too, hence the + 1. */
	if (depth > w->lim->max_depth + 1 || (m->mm_type == MAILMIME_SINGLE &&
	    ++w->parts > w->lim->max_parts)) {
		w->truncated = 1;
		return (0);
	}
	switch (m->mm_type) {
	case MAILMIME_SINGLE:
		return (walk_single(w, m, inmsg));
	case MAILMIME_MULTIPLE:
		if (m->mm_data.mm_multipart.mm_mp_list == NULL)
			return (0);
		type = content_type_str(m->mm_content_type);
		if (strcmp(type, "multipart/report") == 0 && !inmsg)
			w->is_report = 1;
		alt = strcmp(type, "multipart/alternative") == 0;
		free(type);
		if (alt)
			return (walk_alternative(w,
			    m->mm_data.mm_multipart.mm_mp_list, depth, inmsg));
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
		    it != NULL; it = clist_next(it))
			added |= walk(w, clist_content(it), depth + 1, inmsg);
		return (added);
	case MAILMIME_MESSAGE:
		return (walk(w, m->mm_data.mm_message.mm_msg_mime, depth + 1,
		    inmsg || depth > 0));
	}
	return (0);
}

/* Is line i the first line of an "On ... wrote:" attribution? */
static int
is_attribution(const struct mime_line *l, size_t n, size_t i)
{
	size_t	j, k;
	int	de;

	if (!prefix_ci(l[i].p, l[i].len, "On ") &&
	    !prefix_ci(l[i].p, l[i].len, "Am ") &&
	    !prefix_ci(l[i].p, l[i].len, "Le "))
		return (0);
	de = prefix_ci(l[i].p, l[i].len, "Am ");
	for (j = i; j < n && j < i + 3 && l[j].len > 0; j++) {
		if (suffix_ci(l[j].p, l[j].len, "wrote:") ||
		    suffix_ci(l[j].p, l[j].len, "\xc3\xa9" "crit :") ||
		    suffix_ci(l[j].p, l[j].len, "\xc3\xa9" "crit:"))
			return (1);
		if (de && l[j].p[l[j].len - 1] == ':')
			for (k = i; k <= j; k++)
				if (find_ci(l[k].p, l[k].len, " schrieb") !=
				    NULL)
					return (1);
	}
	return (0);
}

/* Is line i where the quoted history or the signature begins? */
static int
is_cut(const struct mime_line *l, size_t n, size_t i)
{
	const char	*p = l[i].p;
	size_t		 len = l[i].len, j;

	if (l[i].rawlen == 3 && memcmp(p, "-- ", 3) == 0)
		return (1);
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	if (prefix_ci(p, len, "--") &&
	    (find_ci(p, len, "original message") != NULL ||
	    find_ci(p, len, "forwarded message") != NULL ||
	    find_ci(p, len, "urspr\xc3\xbc" "ngliche nachricht") != NULL ||
	    find_ci(p, len, "weitergeleitete nachricht") != NULL))
		return (1);
	if (prefix_ci(p, len, "Begin forwarded message"))
		return (1);
	if (prefix_ci(p, len, "From:") || prefix_ci(p, len, "Von:")) {
		for (j = i + 1; j < n && j < i + 3; j++)
			if (prefix_ci(l[j].p, l[j].len, "Sent:") ||
			    prefix_ci(l[j].p, l[j].len, "Date:") ||
			    prefix_ci(l[j].p, l[j].len, "Gesendet:") ||
			    prefix_ci(l[j].p, l[j].len, "Datum:"))
				return (1);
		return (0);
	}
	return (is_attribution(l, n, i));
}

/* Append a line to out, keeping inner blank lines but no edge ones. */
static void
add_line(struct buf *out, int *blanks, const char *p, size_t len)
{
	if (len == 0) {
		if (out->len > 0)
			(*blanks)++;
		return;
	}
	if (out->len > 0)
		buf_addch(out, '\n');
	for (; *blanks > 0; (*blanks)--)
		buf_addch(out, '\n');
	buf_add(out, p, len);
}

/*
 * Split text into what the writer typed (body) and quoted history,
 * forwarded text and signature (quoted): line endings become \n and
 * trailing whitespace goes.
 */
static void
split_quoted(const char *text, size_t tlen, struct buf *body,
    struct buf *quoted)
{
	struct mime_line	*l;
	char			*t;
	size_t			 n = 0, i, j, cut, len;
	int			 bb = 0, qb = 0;
	const char		*p;

	t = xmalloc(tlen + 1);
	for (i = j = 0; i < tlen; i++) {
		if (text[i] == '\r') {
			t[j++] = '\n';
			if (i + 1 < tlen && text[i + 1] == '\n')
				i++;
		} else
			t[j++] = text[i];
	}
	t[j] = '\0';
	tlen = j;
	for (i = 0; i < tlen; i++)
		if (t[i] == '\n')
			n++;
	l = xcalloc(n + 1, sizeof *l);
	for (p = t, n = 0; p <= t + tlen; n++) {
		l[n].p = p;
		while (p < t + tlen && *p != '\n')
			p++;
		l[n].rawlen = len = p - l[n].p;
		while (len > 0 && isspace((unsigned char)l[n].p[len - 1]))
			len--;
		l[n].len = len;
		p++;
	}
	for (cut = 0; cut < n; cut++)
		if (is_cut(l, n, cut))
			break;
	for (i = 0; i < n; i++) {
		p = l[i].p;
		len = l[i].len;
		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		if (i >= cut || (len > 0 && *p == '>'))
			add_line(quoted, &qb, l[i].p, l[i].len);
		else
			add_line(body, &bb, l[i].p, l[i].len);
	}
	free(l);
	free(t);
}

/* Back len off so s[0..len) does not end inside a UTF-8 sequence. */
static size_t
utf8_boundary(const char *s, size_t len)
{
	size_t	i = len, k;

	while (i > 0 && len - i < 3 &&
	    ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return (len);
	i--;
	if ((k = utf8_seq((const unsigned char *)s + i, len - i)) == 0)
		return (i);
	return (i + k);
}

/* Cut text to at most max bytes on a UTF-8 boundary; 1 if it was cut. */
static int
cap_text(char *s, size_t max)
{
	size_t	len = strlen(s);

	if (len <= max)
		return (0);
	s[utf8_boundary(s, max)] = '\0';
	return (1);
}

/* Free an address array. */
void
msg_addrs_free(struct msg_addr *a, size_t n)
{
	size_t	i;

	for (i = 0; a != NULL && i < n; i++) {
		free(a[i].name);
		free(a[i].addr);
	}
	free(a);
}

/* Append one libetpan mailbox as a clean msg_addr. */
static void
add_mailbox(struct msg_addr **a, size_t *n, struct mailimf_mailbox *mb)
{
	const char	*name = mb->mb_display_name;

	if (*n >= MIME_MAX_ADDRS)
		return;
	*a = xreallocarray(*a, *n + 1, sizeof **a);
	(*a)[*n].name = name != NULL ? decode_phrase(name, strlen(name)) :
	    xstrdup("");
	(*a)[*n].addr = mime_header_safe(mb->mb_addr_spec != NULL ?
	    mb->mb_addr_spec : "");
	(*n)++;
}

/*
 * Parse an address list with libetpan. Its parser stops early on bad
 * input (LIBRARIES.md TL;DR #14), so parsing resumes after the next
 * comma until the value is used up; every round moves forward.
 */
static void
parse_addresses(const char *v, size_t len, struct msg_addr **a,
    size_t *n)
{
	struct mailimf_address_list	*al;
	struct mailimf_address		*ad;
	clistiter			*it, *jt;
	size_t				 pos = 0, idx;
	const char			*c;
	unsigned			 rounds;

	if (len > MIME_MAX_ADDR_TEXT)
		len = MIME_MAX_ADDR_TEXT;
	for (rounds = 0; pos < len && rounds < MIME_MAX_ADDRS; rounds++) {
		idx = pos;
		al = NULL;
		if (mailimf_address_list_parse(v, len, &idx, &al) ==
		    MAILIMF_NO_ERROR && al != NULL) {
			for (it = clist_begin(al->ad_list); it != NULL;
			    it = clist_next(it)) {
				ad = clist_content(it);
				if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX) {
					add_mailbox(a, n,
					    ad->ad_data.ad_mailbox);
					continue;
				}
				if (ad->ad_data.ad_group == NULL ||
				    ad->ad_data.ad_group->grp_mb_list == NULL)
					continue;
				for (jt = clist_begin(ad->ad_data.ad_group->
				    grp_mb_list->mb_list); jt != NULL;
				    jt = clist_next(jt))
					add_mailbox(a, n, clist_content(jt));
			}
			mailimf_address_list_free(al);
			if (idx > pos)
				pos = idx;
		}
		if (pos >= len)
			break;
		if ((c = memchr(v + pos, ',', len - pos)) == NULL)
			break;
		pos = c - v + 1;
	}
}

/* Mailboxes of an address-list value, for the guard's Bcc/Resent-*. */
size_t
mime_address_list(const char *value, struct msg_addr **list)
{
	size_t	n = 0;

	*list = NULL;
	if (value != NULL)
		parse_addresses(value, strlen(value), list, &n);
	return (n);
}

/* The raw (undecoded, unfolded) value of the first header name. */
static const char *
raw_header(const struct msg *m, char **raw, const char *name)
{
	size_t	i;

	for (i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return (raw[i]);
	return (NULL);
}

/*
 * Split the header block b[0..end) into name/value pairs: values are
 * unfolded (raw[] keeps them undecoded for address parsing) and
 * decoded into headers[].
 */
static void
parse_headers(struct msg *m, const char *b, size_t end, char ***rawp)
{
	struct buf	 v;
	const char	*p = b, *e, *colon, *name = NULL;
	char		**raw = NULL, *tmp;
	size_t		 n, nlen = 0;

	buf_init(&v, 0);
	for (;; p = e + 1) {
		e = p < b + end ? memchr(p, '\n', b + end - p) : NULL;
		n = e != NULL ? (size_t)(e - p) : 0;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (e != NULL && n > 0 && (*p == ' ' || *p == '\t')) {
			if (name != NULL)
				buf_add(&v, p, n);
			continue;
		}
		if (name != NULL && m->nheaders < MIME_MAX_HEADERS) {
			m->headers = xreallocarray(m->headers,
			    m->nheaders + 1, sizeof *m->headers);
			raw = xreallocarray(raw, m->nheaders + 1, sizeof *raw);
			tmp = xstrndup(name, nlen);
			m->headers[m->nheaders].name = mime_header_safe(tmp);
			free(tmp);
			raw[m->nheaders] = mime_header_safe(buf_str(&v));
			m->headers[m->nheaders].value =
			    decode_phrase(v.data != NULL ? v.data : "", v.len);
			m->nheaders++;
		} else if (name != NULL)
			m->truncated = 1;
		name = NULL;
		buf_reset(&v);
		if (e == NULL || n == 0)
			break;
		if ((colon = memchr(p, ':', n)) == NULL)
			continue;
		name = p;
		for (nlen = colon - p; nlen > 0 &&
		    isspace((unsigned char)name[nlen - 1]); nlen--)
			;
		if (nlen == 0 || memchr(name, '\0', nlen) != NULL) {
			name = NULL;
			continue;
		}
		buf_add(&v, colon + 1, n - (colon + 1 - p));
	}
	buf_free(&v);
	*rawp = raw;
}

/* The first "<id>" in v, or v itself bracketed; NULL if none. */
static char *
parse_msgid(const char *v, const char **next)
{
	const char	*a, *z;
	size_t		 n;

	if (v == NULL)
		return (NULL);
	if ((a = strchr(v, '<')) != NULL && (z = strchr(a, '>')) != NULL) {
		if (next != NULL)
			*next = z + 1;
		if (z - a < 2 || memchr(a, ' ', z - a) != NULL)
			return (NULL);
		return (xstrndup(a, z - a + 1));
	}
	if (next != NULL)
		*next = NULL;
	n = strlen(v);
	trim(&v, &n);
	if (n == 0 || memchr(v, ' ', n) != NULL || memchr(v, '<', n) != NULL)
		return (NULL);
	return (xasprintf("<%.*s>", (int)n, v));
}

/* References (else In-Reply-To) ids joined by spaces; NULL if none. */
static char *
parse_references(const struct msg *m, char **raw)
{
	const char	*v, *next;
	char		*ids[MIME_MAX_REFS], *id;
	struct buf	 b;
	size_t		 n = 0, i;

	if ((v = raw_header(m, raw, "References")) == NULL ||
	    strchr(v, '<') == NULL)
		v = raw_header(m, raw, "In-Reply-To");
	while (v != NULL && strchr(v, '<') != NULL) {
		id = parse_msgid(v, &next);
		v = next;
		if (id == NULL)
			continue;
		if (n == MIME_MAX_REFS) {
			/* Keep the first id and the latest ones. */
			free(ids[1]);
			memmove(ids + 1, ids + 2, (n - 2) * sizeof *ids);
			n--;
		}
		ids[n++] = id;
	}
	if (n == 0)
		return (NULL);
	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addch(&b, ' ');
		buf_addstr(&b, ids[i]);
		free(ids[i]);
	}
	return (buf_detach(&b, NULL));
}

/* Return-Path addr-spec: "" for <>, NULL when the header is missing. */
static char *
parse_return_path(const char *v)
{
	const char	*a, *z;
	size_t		 n;

	if (v == NULL)
		return (NULL);
	if ((a = strchr(v, '<')) != NULL && (z = strchr(a, '>')) != NULL) {
		v = a + 1;
		n = z - v;
		/* Drop an obsolete source route, <@a,@b:user@host>. */
		if (n > 0 && *v == '@' && (a = memchr(v, ':', n)) != NULL) {
			n -= a + 1 - v;
			v = a + 1;
		}
	} else
		n = strlen(v);
	trim(&v, &n);
	return (xstrndup(v, n));
}

/* "Name <addr>", "<addr>" or "" for rules to match. */
static void
add_addr_text(struct buf *b, const struct msg_addr *a)
{
	if (*a->addr == '\0' && *a->name == '\0')
		return;
	if (b->len > 0)
		buf_add(b, ", ", 2);
	if (*a->name != '\0')
		buf_printf(b, "%s <%s>", a->name, a->addr);
	else
		buf_printf(b, "<%s>", a->addr);
}

/* Fill the header-derived fields of m from its header list. */
static void
fill_fields(struct msg *m, char **raw)
{
	static const char *const rcpt[] = { "To", "Cc", NULL };
	struct msg_addr	*a = NULL;
	struct buf	 b;
	const char	*v;
	size_t		 n = 0, i, k;

	v = msg_header(m, "Subject");
	m->subject = xstrdup(v != NULL ? v : "");

	if ((v = raw_header(m, raw, "From")) != NULL)
		parse_addresses(v, strlen(v), &a, &n);
	if (n > 0) {
		m->from = a[0];
		a[0].name = a[0].addr = NULL;
	} else {
		m->from.name = xstrdup("");
		m->from.addr = xstrdup("");
	}
	msg_addrs_free(a, n);

	for (k = 0; rcpt[k] != NULL; k++)
		for (i = 0; i < m->nheaders; i++)
			if (strcasecmp(m->headers[i].name, rcpt[k]) == 0)
				parse_addresses(raw[i], strlen(raw[i]),
				    &m->to, &m->nto);
	if ((v = raw_header(m, raw, "Reply-To")) != NULL)
		parse_addresses(v, strlen(v), &m->reply_to, &m->nreply_to);

	m->message_id = parse_msgid(raw_header(m, raw, "Message-ID"), NULL);
	m->references = parse_references(m, raw);
	m->return_path = parse_return_path(raw_header(m, raw, "Return-Path"));

	buf_init(&b, 0);
	add_addr_text(&b, &m->from);
	m->from_text = buf_detach(&b, NULL);
	for (i = 0; i < m->nto; i++)
		add_addr_text(&b, &m->to[i]);
	m->to_text = buf_detach(&b, NULL);
}

/* Body over the limits: the raw text after the headers, read as text. */
static void
plain_fallback(struct mime_walk *w, const char *body, size_t len,
    const char *ctype)
{
	struct mailmime_content	*ct = NULL;
	const char		*cs = NULL;
	size_t			 idx = 0;

	if (ctype != NULL && mailmime_content_parse(ctype, strlen(ctype),
	    &idx, &ct) == MAILIMF_NO_ERROR && ct != NULL)
		cs = mailmime_content_charset_get(ct);
	text_to_utf8(&w->text, body, len, cs);
	if (ct != NULL)
		mailmime_content_free(ct);
}

/* Top-level "type/subtype" from the Content-Type header value. */
static char *
top_content_type(const char *v)
{
	struct mailmime_content	*ct = NULL;
	char			*s;
	size_t			 idx = 0;

	if (v == NULL || mailmime_content_parse(v, strlen(v), &idx, &ct) !=
	    MAILIMF_NO_ERROR || ct == NULL)
		return (xstrdup("text/plain"));
	s = content_type_str(ct);
	mailmime_content_free(ct);
	return (s);
}

/*
 * Parse one message into clean fields; never fails on bad mail, it only
 * yields emptier fields (and truncated when a limit cut something).
 */
struct msg *
mime_parse(const char *raw, size_t len, const struct mime_limits *limp)
{
	struct mime_limits	 lim;
	struct mime_walk	 w;
	struct mailimf_fields	*fields = NULL;
	struct mailmime		*mime = NULL;
	struct msg		*m;
	struct buf		 body, quoted;
	char			*b, **rawv = NULL;
	size_t			 blen, hdr_end = 0, idx = 0, i;
	int			 cut = 0;

	if (limp != NULL)
		lim = *limp;
	else
		mime_limits_default(&lim);
	m = xcalloc(1, sizeof *m);
	m->internaldate = -1;
	m->size = len;
	b = prepare(raw != NULL ? raw : "", raw != NULL ? len : 0,
	    lim.max_bytes, &blen, &cut);
	m->truncated = cut;

	/* The header block ends where libetpan's header parser stops. */
	if (mailimf_envelope_and_optional_fields_parse(b, blen, &hdr_end,
	    &fields) == MAILIMF_NO_ERROR)
		mailimf_fields_free(fields);
	else
		hdr_end = 0;
	parse_headers(m, b, hdr_end, &rawv);
	fill_fields(m, rawv);

	memset(&w, 0, sizeof w);
	w.lim = &lim;
	buf_init(&w.text, lim.max_text);
	buf_init(&w.fwd, lim.max_text);
	if (prescan(b, blen, &lim) == 0 &&
	    mailmime_parse(b, blen, &idx, &mime) == MAILIMF_NO_ERROR &&
	    mime != NULL) {
		if (mime->mm_type == MAILMIME_MESSAGE &&
		    mime->mm_data.mm_message.mm_msg_mime != NULL) {
			m->content_type = content_type_str(
			    mime->mm_data.mm_message.mm_msg_mime->
			    mm_content_type);
		}
		walk(&w, mime, 0, 0);
		mailmime_free(mime);
	} else {
		w.truncated = 1;
		idx = hdr_end;
		if (idx < blen && b[idx] == '\r')
			idx++;
		if (idx < blen && b[idx] == '\n')
			idx++;
		plain_fallback(&w, b + idx, blen - idx,
		    raw_header(m, rawv, "Content-Type"));
	}
	if (m->content_type == NULL)
		m->content_type = top_content_type(raw_header(m, rawv,
		    "Content-Type"));
	m->is_report = w.is_report ||
	    strcmp(m->content_type, "multipart/report") == 0;
	if (w.text.truncated || w.fwd.truncated)
		w.truncated = 1;
	w.text.len = utf8_boundary(buf_str(&w.text), w.text.len);
	w.fwd.len = utf8_boundary(buf_str(&w.fwd), w.fwd.len);

	buf_init(&body, 0);
	buf_init(&quoted, 0);
	split_quoted(buf_str(&w.text), w.text.len, &body, &quoted);
	if (w.fwd.len > 0) {
		if (quoted.len > 0)
			buf_addch(&quoted, '\n');
		split_quoted(buf_str(&w.fwd), w.fwd.len, &quoted, &quoted);
	}
	m->body = buf_detach(&body, &blen);
	m->quoted = buf_detach(&quoted, NULL);
	if (cap_text(m->body, lim.max_text))
		w.truncated = 1;
	if (cap_text(m->quoted, blen < lim.max_text ? lim.max_text - blen : 0))
		w.truncated = 1;
	m->truncated |= w.truncated;

	buf_free(&w.text);
	buf_free(&w.fwd);
	for (i = 0; i < m->nheaders; i++)
		free(rawv[i]);
	free(rawv);
	free(b);
	return (m);
}

/* Free a parsed message and every field it owns. */
void
msg_free(struct msg *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	free(m->subject);
	free(m->from.name);
	free(m->from.addr);
	msg_addrs_free(m->to, m->nto);
	msg_addrs_free(m->reply_to, m->nreply_to);
	free(m->message_id);
	free(m->references);
	free(m->return_path);
	free(m->from_text);
	free(m->to_text);
	free(m->body);
	free(m->quoted);
	free(m->content_type);
	free(m);
}

/* First header of that name, case-insensitive, as rules see it. */
const char *
msg_header(const struct msg *m, const char *name)
{
	size_t	i;

	if (m == NULL || name == NULL)
		return (NULL);
	for (i = 0; i < m->nheaders; i++)
		if (strcasecmp(m->headers[i].name, name) == 0)
			return (m->headers[i].value);
	return (NULL);
}

/* Is the local part a dot-atom or a quoted string without controls? */
static int
valid_local(const char *s, size_t n)
{
	static const char	 atext[] = "!#$%&'*+-/=?^_`{|}~";
	size_t			 i;

	if (n == 0 || n > 64)
		return (0);
	if (s[0] == '"') {
		if (n < 2 || s[n - 1] != '"')
			return (0);
		for (i = 1; i < n - 1; i++) {
			if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"')
				return (0);
			if (s[i] == '\\' && (++i >= n - 1 ||
			    s[i] < 0x20 || s[i] > 0x7e))
				return (0);
		}
		return (1);
	}
	if (s[0] == '.' || s[n - 1] == '.')
		return (0);
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return (0);
		} else if ((unsigned char)s[i] >= 0x80 ||
		    (!isalnum((unsigned char)s[i]) &&
		    strchr(atext, s[i]) == NULL))
			return (0);
	}
	return (1);
}

/* Dot-separated labels of [A-Za-z0-9-] or UTF-8, at least one dot. */
static int
valid_domain(const char *s, size_t n)
{
	size_t	i, label = 0, dots = 0;

	if (n == 0 || !utf8_valid(s, n))
		return (0);
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-' ||
			    s[i - label] == '-')
				return (0);
			if (i < n)
				dots++;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    (unsigned char)s[i] < 0x80)
			return (0);
		label++;
	}
	return (dots > 0);
}

/* Strict addr-spec check before anything is sent to an address. */
int
mime_valid_address(const char *s)
{
	const char	*at;
	size_t		 n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 254)
		return (0);
	if ((at = strrchr(s, '@')) == NULL)
		return (0);
	return (valid_local(s, at - s) &&
	    valid_domain(at + 1, n - (at + 1 - s)));
}
