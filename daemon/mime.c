/*
 * MIME: turn one raw message into the clean UTF-8 fields of struct msg.
 *
 * libetpan parses the MIME tree, its parameters and the quoted-printable
 * encoding. Base64, RFC 2047 words, RFC 2231 parameters, address lists
 * (libetpan's parser glues words together: LIBRARIES.md TL;DR #14) and
 * charsets (iconv, with U+FFFD for bad bytes and better supersets for
 * common labels) are decoded here, leniently, because real mail breaks
 * every rule. Everything is copied out, repaired to valid UTF-8 and
 * stripped of control characters, so no libetpan type leaves this file.
 * The raw bytes are capped, and the nesting depth and part count are
 * pre-scanned before mailmime_parse, whose cost is quadratic in depth
 * (TL;DR #6).
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
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
#define MIME_MAX_PARAM_SEGS	32	/* RFC 2231 continuations joined */

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

/* Charset labels read a better way than iconv would read them as named. */
static const struct {
	const char	*label;		/* normalised: lowercase, no quotes */
	const char	*use;		/* iconv name, or an =internal way */
} charset_alias[] = {
	{ "utf-8", "=utf8" }, { "utf8", "=utf8" },
	{ "unicode-1-1-utf-8", "=utf8" }, { "x-utf8", "=utf8" },
	{ "iso-8859-1", "=latin" }, { "iso8859-1", "=latin" },
	{ "iso_8859-1", "=latin" }, { "iso-8859-1:1987", "=latin" },
	{ "latin1", "=latin" }, { "latin-1", "=latin" }, { "l1", "=latin" },
	{ "windows-1252", "=latin" }, { "cp1252", "=latin" },
	{ "x-cp1252", "=latin" }, { "win-1252", "=latin" },
	{ "cp819", "=latin" }, { "ibm819", "=latin" },
	{ "us-ascii", "=guess" }, { "ascii", "=guess" },
	{ "ansi_x3.4-1968", "=guess" }, { "iso646-us", "=guess" },
	{ "us", "=guess" }, { "unknown", "=guess" },
	{ "unknown-8bit", "=guess" }, { "x-unknown", "=guess" },
	{ "x-user-defined", "=guess" }, { "default", "=guess" },
	{ "7bit", "=guess" }, { "8bit", "=guess" }, { "none", "=guess" },
	{ "utf-16", "=utf16" }, { "utf16", "=utf16" }, { "ucs-2", "=utf16" },
	{ "unicode", "=utf16" }, { "csunicode", "=utf16" },
	{ "iso-10646-ucs-2", "=utf16" },
	{ "gb2312", "GB18030" }, { "gb_2312-80", "GB18030" },
	{ "csgb2312", "GB18030" }, { "euc-cn", "GB18030" },
	{ "gbk", "GB18030" }, { "x-gbk", "GB18030" }, { "cp936", "GB18030" },
	{ "big5", "CP950" }, { "x-big5", "CP950" }, { "csbig5", "CP950" },
	{ "cn-big5", "CP950" },
	{ "shift_jis", "CP932" }, { "shift-jis", "CP932" },
	{ "sjis", "CP932" }, { "x-sjis", "CP932" }, { "ms_kanji", "CP932" },
	{ "csshiftjis", "CP932" }, { "windows-31j", "CP932" },
	{ "euc-jp", "EUC-JP-MS" }, { "x-euc-jp", "EUC-JP-MS" },
	{ "iso-2022-jp", "ISO-2022-JP-3" }, { "csiso2022jp", "ISO-2022-JP-3" },
	{ "euc-kr", "CP949" }, { "cseuckr", "CP949" },
	{ "ks_c_5601-1987", "CP949" }, { "ks_c_5601", "CP949" },
	{ "ksc5601", "CP949" }, { "ksc_5601", "CP949" },
	{ "x-windows-949", "CP949" },
	{ "utf-7", "UTF-7" }, { "unicode-1-1-utf-7", "UTF-7" },
	{ "csunicode11utf7", "UTF-7" }, { "x-unicode20utf7", "UTF-7" },
	{ "iso-8859-8-i", "ISO-8859-8" }, { "iso-8859-8-e", "ISO-8859-8" },
	{ "iso-8859-6-i", "ISO-8859-6" }, { "iso-8859-6-e", "ISO-8859-6" },
	{ "tis-620", "CP874" }, { "windows-874", "CP874" },
	{ "x-mac-roman", "MACINTOSH" }, { "x-mac-cyrillic", "MACCYRILLIC" },
	{ NULL, NULL }
};

/* Does p[0..n) hold any byte with the high bit set? */
static int
has_8bit(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return (1);
	return (0);
}

/* Does p[0..n) hold at least one valid multi-byte UTF-8 sequence? */
static int
utf8_has_valid_multibyte(const char *p, size_t n)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 i;

	for (i = 0; i < n; i++)
		if (u[i] >= 0xc2 && utf8_seq(u + i, n - i) > 1)
			return (1);
	return (0);
}

/*
 * Convert p[0..n) from the iconv charset cs to UTF-8 into b: a bad byte
 * becomes U+FFFD and conversion goes on after it, a cut sequence at the
 * end becomes U+FFFD. Returns -1 when iconv does not know cs.
 */
static int
iconv_to_utf8(struct buf *b, const char *p, size_t n, const char *cs)
{
	iconv_t	 cd;
	char	 out[4096], *in = (char *)(uintptr_t)p, *o;
	size_t	 inleft = n, oleft, r;
	int	 unit;

	if ((cd = iconv_open("UTF-8", cs)) == (iconv_t)-1)
		return (-1);
	unit = strncasecmp(cs, "UTF-16", 6) == 0 ? 2 : 1;
	while (inleft > 0 && !b->truncated) {
		o = out;
		oleft = sizeof out;
		r = iconv(cd, &in, &inleft, &o, &oleft);
		utf8_repair(b, out, o - out);
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		utf8_put(b, 0xfffd);
		if (errno != EILSEQ)		/* EINVAL: cut at the end */
			break;
		r = inleft < (size_t)unit ? inleft : (size_t)unit;
		in += r;
		inleft -= r;
	}
	o = out;
	oleft = sizeof out;
	(void)iconv(cd, NULL, NULL, &o, &oleft);
	utf8_repair(b, out, o - out);
	iconv_close(cd);
	return (0);
}

/* UTF-16 without a usable label: the BOM, else where the NULs are. */
static const char *
utf16_guess(const char *p, size_t n)
{
	size_t	i, even = 0, odd = 0;

	if (n >= 2 && (unsigned char)p[0] == 0xff &&
	    (unsigned char)p[1] == 0xfe)
		return ("UTF-16");
	if (n >= 2 && (unsigned char)p[0] == 0xfe &&
	    (unsigned char)p[1] == 0xff)
		return ("UTF-16");
	for (i = 0; i + 1 < n && i < 4096; i += 2) {
		even += p[i] == '\0';
		odd += p[i + 1] == '\0';
	}
	return (odd > even ? "UTF-16LE" : "UTF-16BE");
}

/*
 * Text whose label says nothing: a BOM or ISO-2022-JP escapes decide,
 * else it is UTF-8 when that is valid, else windows-1252.
 */
static void
guess_to_utf8(struct buf *b, const char *p, size_t n)
{
	const unsigned char	*u = (const unsigned char *)p;

	if (n >= 2 && ((u[0] == 0xff && u[1] == 0xfe) ||
	    (u[0] == 0xfe && u[1] == 0xff)) &&
	    iconv_to_utf8(b, p, n, "UTF-16") == 0)
		return;
	if ((memmem(p, n, "\x1b$B", 3) != NULL ||
	    memmem(p, n, "\x1b$@", 3) != NULL) &&
	    iconv_to_utf8(b, p, n, "ISO-2022-JP-3") == 0)
		return;
	if (utf8_valid(p, n))
		utf8_repair(b, p, n);
	else
		cp1252_to_utf8(b, p, n);
}

/*
 * Append p[0..n), written in charset cs, as UTF-8; the text is never
 * dropped. Labels that promise nothing (none, us-ascii, unknown) are
 * guessed; Latin-1 is read as windows-1252 (what senders mean); a
 * Latin or UTF-8 label on text that is plainly the other is overruled;
 * everything else goes through iconv, with better supersets for the
 * East Asian labels (GB2312 as GB18030, Shift_JIS as CP932 ...).
 */
static void
text_to_utf8(struct buf *b, const char *p, size_t n, const char *cs)
{
	char		 label[64];
	const char	*use = NULL;
	size_t		 i, j;

	if (p == NULL || n == 0)
		return;
	j = 0;
	for (i = 0; cs != NULL && cs[i] != '\0' && j < sizeof label - 1; i++)
		if (cs[i] != '"' && cs[i] != '\'' &&
		    !isspace((unsigned char)cs[i]))
			label[j++] = (char)tolower((unsigned char)cs[i]);
	label[j] = '\0';
	/* A UTF-8 BOM says what it is and is not text. */
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3, n -= 3;
		if (*label == '\0' || strncmp(label, "utf-16", 6) != 0)
			use = "=utf8";
	}
	for (i = 0; use == NULL && charset_alias[i].label != NULL; i++)
		if (strcmp(label, charset_alias[i].label) == 0)
			use = charset_alias[i].use;
	if (use == NULL && *label == '\0')
		use = "=guess";
	if (use == NULL)
		use = label;
	if (strcmp(use, "=utf8") == 0) {
		/* No valid multi-byte sequence at all: Latin-1 mislabelled. */
		if (!utf8_valid(p, n) && !utf8_has_valid_multibyte(p, n))
			cp1252_to_utf8(b, p, n);
		else
			utf8_repair(b, p, n);
	} else if (strcmp(use, "=latin") == 0) {
		if (has_8bit(p, n) && utf8_valid(p, n))
			utf8_repair(b, p, n);
		else
			cp1252_to_utf8(b, p, n);
	} else if (strcmp(use, "=guess") == 0) {
		guess_to_utf8(b, p, n);
	} else if (strcmp(use, "=utf16") == 0) {
		if (iconv_to_utf8(b, p, n, utf16_guess(p, n)) == -1)
			guess_to_utf8(b, p, n);
	} else if (iconv_to_utf8(b, p, n, use) == -1 &&
	    (strncmp(use, "x-", 2) != 0 ||
	    iconv_to_utf8(b, p, n, use + 2) == -1))
		guess_to_utf8(b, p, n);
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

/* Value of a base64 digit, -1 for anything else. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

/* Value of a hex digit, -1 for anything else. */
static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Decode base64 leniently: anything outside the alphabet is skipped,
 * "=" ends a quantum (so concatenated blocks decode), a cut quantum
 * yields the bytes it completes. Stops early once b is full.
 */
static void
b64_decode(struct buf *b, const char *s, size_t n)
{
	unsigned	bits = 0, nbits = 0;
	size_t		i;
	int		v;

	for (i = 0; i < n && !b->truncated; i++) {
		if (s[i] == '=') {
			bits = nbits = 0;
			continue;
		}
		if ((v = b64_value((unsigned char)s[i])) < 0)
			continue;
		bits = (bits << 6 | (unsigned)v) & 0xffffff;
		if ((nbits += 6) >= 8) {
			nbits -= 8;
			buf_addch(b, (char)((bits >> nbits) & 0xff));
		}
	}
}

/* Decode an encoded word's text (B or Q) into out, leniently. */
static void
ew_decode(struct buf *out, int enc, const char *s, size_t n)
{
	size_t	i;
	int	h, l;

	if (enc == 'b') {
		b64_decode(out, s, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '_')
			buf_addch(out, ' ');
		else if (s[i] == '=' && i + 2 < n &&
		    (h = hex_value((unsigned char)s[i + 1])) >= 0 &&
		    (l = hex_value((unsigned char)s[i + 2])) >= 0) {
			buf_addch(out, (char)(h << 4 | l));
			i += 2;
		} else
			buf_addch(out, s[i]);
	}
}

/*
 * Is there an encoded word "=?charset?e?text?=" at s[0..n)? Fills the
 * charset (RFC 2231 language dropped), the encoding and the text, and
 * returns its length, else 0. Spaces inside the text are tolerated
 * (broken encoders write them), a missing end is not.
 */
static size_t
ew_parse(const char *s, size_t n, char *cs, size_t cslen, int *enc,
    const char **text, size_t *tlen)
{
	const char	*e;
	char		*q;
	size_t		 i;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return (0);
	for (i = 2; i < n && i - 2 < cslen - 1 && s[i] != '?' &&
	    (unsigned char)s[i] > ' ' && s[i] != '\x7f'; i++)
		cs[i - 2] = s[i];
	if (i == 2 || i >= n || s[i] != '?')
		return (0);
	cs[i - 2] = '\0';
	if ((q = strchr(cs, '*')) != NULL)
		*q = '\0';
	if (i + 2 >= n || s[i + 2] != '?' ||
	    strchr("bBqQ", s[i + 1]) == NULL || s[i + 1] == '\0')
		return (0);
	*enc = tolower((unsigned char)s[i + 1]);
	*text = s + i + 3;
	if ((e = memmem(*text, n - (i + 3), "?=", 2)) == NULL)
		return (0);
	/* A line break inside means the word was never closed. */
	if (memchr(*text, '\n', e - *text) != NULL)
		return (0);
	*tlen = e - *text;
	return (e + 2 - s);
}

/*
 * Decode RFC 2047 encoded words in s[0..n) into b as UTF-8. Whitespace
 * between adjacent encoded words goes; adjacent words in one charset
 * are joined before conversion, so a character split across two words
 * survives; words glued to text are decoded too; raw 8-bit text is
 * read as UTF-8 when valid, else as windows-1252.
 */
static void
rfc2047_decode(struct buf *b, const char *s, size_t n)
{
	struct buf	 pend;
	char		 cs[64], pcs[64] = "";
	const char	*text;
	size_t		 i = 0, j, k, tlen;
	int		 enc, prev = 0;

	buf_init(&pend, 0);
	while (i < n) {
		k = s[i] == '=' ? ew_parse(s + i, n - i, cs, sizeof cs, &enc,
		    &text, &tlen) : 0;
		if (k > 0) {
			if (pend.len > 0 && strcasecmp(cs, pcs) != 0) {
				text_to_utf8(b, buf_str(&pend), pend.len, pcs);
				buf_reset(&pend);
			}
			(void)snprintf(pcs, sizeof pcs, "%s", cs);
			ew_decode(&pend, enc, text, tlen);
			i += k;
			prev = 1;
			continue;
		}
		/* Plain text up to the next "=?" (or a lone "="). */
		for (j = i + 1; j < n && !(s[j] == '=' && j + 1 < n &&
		    s[j + 1] == '?'); j++)
			;
		if (prev) {
			/* Whitespace only, then another word: drop it. */
			for (k = i; k < j && isspace((unsigned char)s[k]);
			    k++)
				;
			if (k == j && j < n && ew_parse(s + j, n - j, cs,
			    sizeof cs, &enc, &text, &tlen) > 0) {
				i = j;
				continue;
			}
			text_to_utf8(b, buf_str(&pend), pend.len, pcs);
			buf_reset(&pend);
			prev = 0;
		}
		text_to_utf8(b, s + i, j - i, NULL);
		i = j;
	}
	if (pend.len > 0)
		text_to_utf8(b, buf_str(&pend), pend.len, pcs);
	buf_free(&pend);
}

/*
 * Decode an RFC 2047 phrase (a header value or display name) to a
 * header-safe UTF-8 string the caller frees.
 */
static char *
decode_phrase(const char *s, size_t n)
{
	struct buf	 b;
	char		*safe;

	trim(&s, &n);
	buf_init(&b, 0);
	rfc2047_decode(&b, s, n);
	safe = mime_header_safe(buf_str(&b));
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
 * CRs become LFs (CR CR LF is one line end), and the text ends with a
 * newline (so a last header without one is still a header).
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
		else if (raw[i] == '\r' && i + 2 < len && raw[i + 1] == '\r' &&
		    raw[i + 2] == '\n')
			continue;		/* CR CR LF: one line end */
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

/* Percent-decode s[0..n) (RFC 2231 extended value) into b. */
static void
pct_decode(struct buf *b, const char *s, size_t n)
{
	size_t	i;
	int	h, l;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    (h = hex_value((unsigned char)s[i + 1])) >= 0 &&
		    (l = hex_value((unsigned char)s[i + 2])) >= 0) {
			buf_addch(b, (char)(h << 4 | l));
			i += 2;
		} else
			buf_addch(b, s[i]);
	}
}

/*
 * Value of parameter name in a list of struct mailmime_parameter, with
 * RFC 2231 applied: name*=charset'lang'%XX..., and continuations
 * name*0, name*1* ... joined in order. UTF-8, caller frees; NULL when
 * absent.
 */
static char *
param_value(clist *params, const char *name)
{
	struct mailmime_parameter	*pa;
	clistiter			*it;
	struct buf			 raw, out;
	const char			*seg[MIME_MAX_PARAM_SEGS], *v, *q;
	char				 cs[64] = "", *end, *plain = NULL;
	size_t				 nlen = strlen(name), i, nseg = 0;
	unsigned long			 k;
	int				 enc[MIME_MAX_PARAM_SEGS];

	memset(seg, 0, sizeof seg);
	memset(enc, 0, sizeof enc);
	for (it = params != NULL ? clist_begin(params) : NULL; it != NULL;
	    it = clist_next(it)) {
		pa = clist_content(it);
		if (pa == NULL || pa->pa_name == NULL || pa->pa_value == NULL ||
		    strncasecmp(pa->pa_name, name, nlen) != 0)
			continue;
		v = pa->pa_name + nlen;
		if (*v == '\0') {
			if (plain == NULL)
				plain = pa->pa_value;
			continue;
		}
		if (*v++ != '*')
			continue;
		if (*v == '\0') {		/* name*=, one extended value */
			k = 0;
			enc[0] = 1;
		} else {
			if (!isdigit((unsigned char)*v))
				continue;
			k = strtoul(v, &end, 10);
			if (k >= MIME_MAX_PARAM_SEGS ||
			    (*end != '\0' && strcmp(end, "*") != 0))
				continue;
			enc[k] = *end == '*';
		}
		if (seg[k] == NULL)
			seg[k] = pa->pa_value;
		if (k + 1 > nseg)
			nseg = k + 1;
	}
	if (nseg == 0 || seg[0] == NULL)
		return (plain != NULL ? xstrdup(plain) : NULL);
	buf_init(&raw, 0);
	for (i = 0; i < nseg && seg[i] != NULL; i++) {
		v = seg[i];
		if (i == 0 && enc[0] && (q = strchr(v, '\'')) != NULL &&
		    strchr(q + 1, '\'') != NULL) {
			(void)snprintf(cs, sizeof cs, "%.*s", (int)(q - v), v);
			v = strchr(q + 1, '\'') + 1;
		}
		if (enc[i])
			pct_decode(&raw, v, strlen(v));
		else
			buf_addstr(&raw, v);
	}
	buf_init(&out, 0);
	text_to_utf8(&out, buf_str(&raw), raw.len, cs);
	buf_free(&raw);
	return (buf_detach(&out, NULL));
}

/* The part's charset parameter (RFC 2231 aware), or NULL; caller frees. */
static char *
part_charset(const struct mailmime_content *ct)
{
	return (ct != NULL ? param_value(ct->ct_parameters, "charset") :
	    NULL);
}

/* Does a parameter list name a file (name, filename, in any form)? */
static int
names_file(clist *params)
{
	struct mailmime_parameter	*pa;
	clistiter			*it;

	for (it = params != NULL ? clist_begin(params) : NULL; it != NULL;
	    it = clist_next(it)) {
		pa = clist_content(it);
		if (pa != NULL && pa->pa_name != NULL &&
		    (prefix_ci(pa->pa_name, strlen(pa->pa_name), "name") ||
		    prefix_ci(pa->pa_name, strlen(pa->pa_name), "filename")))
			return (1);
	}
	return (0);
}

/*
 * Is this part an attachment: Content-Disposition attachment, or (unless
 * it is the message's only part) a file name on the disposition or the
 * type? Its text is never decoded.
 */
static int
is_attachment(const struct mailmime *m, int only)
{
	struct mailmime_disposition_parm	*dp;
	struct mailmime_field			*f;
	clistiter				*it, *jt;

	if (!only && m->mm_content_type != NULL &&
	    names_file(m->mm_content_type->ct_parameters))
		return (1);
	if (m->mm_mime_fields == NULL || m->mm_mime_fields->fld_list == NULL)
		return (0);
	for (it = clist_begin(m->mm_mime_fields->fld_list); it != NULL;
	    it = clist_next(it)) {
		f = clist_content(it);
		if (f->fld_type != MAILMIME_FIELD_DISPOSITION ||
		    f->fld_data.fld_disposition == NULL)
			continue;
		if (f->fld_data.fld_disposition->dsp_type != NULL &&
		    f->fld_data.fld_disposition->dsp_type->dsp_type ==
		    MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return (1);
		if (only || f->fld_data.fld_disposition->dsp_parms == NULL)
			continue;
		for (jt = clist_begin(f->fld_data.fld_disposition->dsp_parms);
		    jt != NULL; jt = clist_next(jt)) {
			dp = clist_content(jt);
			if (dp->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME ||
			    (dp->pa_type ==
			    MAILMIME_DISPOSITION_PARM_PARAMETER &&
			    dp->pa_data.pa_parameter != NULL &&
			    dp->pa_data.pa_parameter->pa_name != NULL &&
			    prefix_ci(dp->pa_data.pa_parameter->pa_name,
			    strlen(dp->pa_data.pa_parameter->pa_name),
			    "filename")))
				return (1);
		}
	}
	return (0);
}

/*
 * The part's transfer encoding, with bogus labels read sensibly:
 * "quoted printable", "quoted_printable", "qp" as quoted-printable,
 * anything naming base64 as base64, and every other unknown label
 * ("7-bit", "x-uuencode") as no encoding at all.
 */
static int
part_encoding(const struct mailmime *m, int given)
{
	struct mailmime_field	*f;
	clistiter		*it;
	const char		*t = NULL;
	char			 tok[32];
	size_t			 i, j;

	if (given != MAILMIME_MECHANISM_TOKEN)
		return (given);
	for (it = m->mm_mime_fields != NULL &&
	    m->mm_mime_fields->fld_list != NULL ?
	    clist_begin(m->mm_mime_fields->fld_list) : NULL; it != NULL;
	    it = clist_next(it)) {
		f = clist_content(it);
		if (f->fld_type == MAILMIME_FIELD_TRANSFER_ENCODING &&
		    f->fld_data.fld_encoding != NULL)
			t = f->fld_data.fld_encoding->enc_token;
	}
	for (i = j = 0; t != NULL && t[i] != '\0' && j < sizeof tok - 1; i++)
		if (isalnum((unsigned char)t[i]))
			tok[j++] = (char)tolower((unsigned char)t[i]);
	tok[j] = '\0';
	if (strstr(tok, "base64") != NULL || strcmp(tok, "b64") == 0)
		return (MAILMIME_MECHANISM_BASE64);
	if (strncmp(tok, "quoted", 6) == 0 || strcmp(tok, "qp") == 0)
		return (MAILMIME_MECHANISM_QUOTED_PRINTABLE);
	return (MAILMIME_MECHANISM_8BIT);
}

/* HTML reduction state: pending space, blank-line cap, blockquotes. */
struct html_out {
	struct buf	*b;
	int		 bol;		/* at the start of a line */
	int		 nl;		/* newlines just written */
	int		 space;		/* a space is pending */
	int		 quote;		/* depth of blockquotes that quote mail */
	int		 pre;		/* inside <pre> */
	unsigned	 open;		/* open blockquotes, up to 64 tracked */
	uint64_t	 quoting;	/* bit k: the k-th open one quotes mail */
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
 * Does a blockquote tag with attributes a[0..n) quote earlier mail? Mail
 * programs mark theirs: type="cite" (Apple Mail, Thunderbird), a class
 * naming a quote (Gmail's gmail_quote, protonmail_quote, yahoo_quoted),
 * or Gmail's indent (margin ... .8ex). A web form's or a directory's
 * relay sets the writer's message in a plain or styled blockquote, and
 * that is the inquiry itself; a plain blockquote under "On ... wrote:"
 * is still history, as the attribution says so.
 */
static int
blockquote_quotes_mail(const char *a, size_t n)
{
	const char	*c, *v;
	size_t		 rest;

	if (find_ci(a, n, "cite") != NULL || find_ci(a, n, ".8ex") != NULL)
		return (1);
	/* Each search resumes where the last value ended: linear. */
	for (c = a; (c = find_ci(c, n - (c - a), "class")) != NULL; c = v) {
		v = c + 5;
		rest = n - (v - a);
		while (rest > 0 && (*v == ' ' || *v == '=' || *v == '"' ||
		    *v == '\'')) {
			v++;
			rest--;
		}
		while (rest > 0 && *v != '"' && *v != '\'' && *v != '>') {
			if (rest >= 5 && prefix_ci(v, rest, "quote"))
				return (1);
			v++;
			rest--;
		}
	}
	return (0);
}

/*
 * Reduce HTML to text: script, style and head go, tags go, block
 * elements become line breaks, blockquotes that quote mail become "> "
 * lines, entities are decoded and runs of whitespace collapse. Linear
 * in the input.
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
	size_t		 i = 0, j, k, nlen, attr;
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
		for (attr = j; j < n && s[j] != '>'; j++) {
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
			if (end && o.open > 0) {
				o.open--;
				if (o.open >= 64 ||
				    (o.quoting >> o.open & 1) != 0) {
					if (o.quote > 0)
						o.quote--;
				}
			} else if (!end) {
				qi = blockquote_quotes_mail(s + attr, j - attr);
				if (o.open < 64) {
					o.quoting &= ~((uint64_t)1 << o.open);
					o.quoting |= (uint64_t)qi << o.open;
				} else
					qi = 1;	/* deeper than tracked */
				o.open++;
				o.quote += qi;
			}
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

/*
 * The charset an HTML part names in a <meta> tag near its start (for
 * a part whose MIME header names none), or NULL; caller frees.
 */
static char *
html_charset(const char *p, size_t n)
{
	const char	*c;
	size_t		 k;

	if (n > 4096)
		n = 4096;
	if ((c = find_ci(p, n, "<meta")) == NULL ||
	    (c = find_ci(c, n - (c - p), "charset=")) == NULL)
		return (NULL);
	c += 8;
	while (c < p + n && (*c == '"' || *c == '\''))
		c++;
	for (k = 0; c + k < p + n && k < 40 && (isalnum((unsigned char)c[k]) ||
	    strchr("-_.:", c[k]) != NULL); k++)
		;
	return (k > 0 ? xstrndup(c, k) : NULL);
}

/*
 * Decode one leaf part into the text (or forwarded) buffer; only is set
 * for the single body of a message.
 */
static int
walk_single(struct mime_walk *w, struct mailmime *m, int inmsg, int only)
{
	struct mailmime_data	*d = m->mm_data.mm_single;
	struct buf		*out = inmsg ? &w->fwd : &w->text;
	struct buf		 u, raw;
	char			*type, *dec = NULL, *cs;
	const char		*p;
	size_t			 idx = 0, len, from;
	int			 html, r, enc;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT ||
	    is_attachment(m, only))
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
	enc = part_encoding(m, d->dt_encoding);
	buf_init(&raw, w->lim->max_bytes);
	if (d->dt_encoded && enc == MAILMIME_MECHANISM_BASE64) {
		b64_decode(&raw, p, len);
		p = buf_str(&raw);
		len = raw.len;
	} else if (d->dt_encoded && mailmime_part_parse(p, len, &idx, enc,
	    &dec, &len) == MAILIMF_NO_ERROR)
		p = dec;
	else
		dec = NULL;
	cs = part_charset(m->mm_content_type);
	if (html && (cs == NULL || strcasecmp(cs, "us-ascii") == 0)) {
		free(cs);
		cs = html_charset(p, len);
	}
	buf_init(&u, w->lim->max_bytes);
	text_to_utf8(&u, p, len, cs);
	free(cs);
	if (dec != NULL)
		mailmime_decoded_part_free(dec);
	buf_free(&raw);
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
	if (c->mm_type != MAILMIME_SINGLE || is_attachment(c, 0))
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
		return (walk_single(w, m, inmsg, m->mm_parent != NULL &&
		    m->mm_parent->mm_type == MAILMIME_MESSAGE));
	case MAILMIME_MULTIPLE:
		if (m->mm_data.mm_multipart.mm_mp_list == NULL)
			return (0);
		type = content_type_str(m->mm_content_type);
		if (strcmp(type, "multipart/report") == 0 && !inmsg)
			w->is_report = 1;
		alt = strcmp(type, "multipart/alternative") == 0 ? 1 :
		    strcmp(type, "multipart/signed") == 0 ? 2 :
		    strcmp(type, "multipart/encrypted") == 0 ? 3 : 0;
		free(type);
		if (alt == 1)
			return (walk_alternative(w,
			    m->mm_data.mm_multipart.mm_mp_list, depth, inmsg));
		/* Signed: the first part is the message, then the
		 * signature. Encrypted: nothing readable. */
		if (alt == 2 && (it = clist_begin(
		    m->mm_data.mm_multipart.mm_mp_list)) != NULL)
			return (walk(w, clist_content(it), depth + 1, inmsg));
		if (alt >= 2)
			return (0);
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

/*
 * Is line i the first line of an "On ... wrote:" attribution (within
 * three lines), in English, German, French, Spanish, Italian or Dutch?
 * German and Dutch put the verb before the name, so for them a line
 * ending in ":" after "schrieb" or "schreef" is enough.
 */
static int
is_attribution(const struct mime_line *l, size_t n, size_t i)
{
	static const char *const lead[] = { "On ", "Am ", "Le ", "El ",
	    "Il ", "Op ", NULL };
	static const char *const tail[] = { "wrote:", "\xc3\xa9" "crit :",
	    "\xc3\xa9" "crit:", "escribi\xc3\xb3:", "ha scritto:", NULL };
	size_t	j, k, t;

	for (t = 0; lead[t] != NULL; t++)
		if (prefix_ci(l[i].p, l[i].len, lead[t]))
			break;
	if (lead[t] == NULL)
		return (0);
	for (j = i; j < n && j < i + 3 && l[j].len > 0; j++) {
		for (t = 0; tail[t] != NULL; t++)
			if (suffix_ci(l[j].p, l[j].len, tail[t]))
				return (1);
		if (l[j].p[l[j].len - 1] != ':')
			continue;
		for (k = i; k <= j; k++)
			if (find_ci(l[k].p, l[k].len, " schrieb") != NULL ||
			    find_ci(l[k].p, l[k].len, " schreef") != NULL)
				return (1);
	}
	return (0);
}

/* Does a forwarded message begin at line p (len bytes)? */
static int
is_forward_marker(const char *p, size_t len)
{
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	if (prefix_ci(p, len, "--") &&
	    (find_ci(p, len, "forwarded message") != NULL ||
	    find_ci(p, len, "weitergeleitete nachricht") != NULL ||
	    find_ci(p, len, "mensaje reenviado") != NULL))
		return (1);
	return (prefix_ci(p, len, "Begin forwarded message"));
}

static int	is_outlook_head(const struct mime_line *, size_t, size_t, int);
static int	is_forward_header(const char *, size_t);

/*
 * Does the paragraph from line i speak like a legal notice ("the intended
 * recipient", "unauthorized review ... is prohibited")? Only words a
 * writer does not use of their own mail: "intended only for Dr. Lee" is
 * how a frightened writer asks for privacy.
 */
static int
is_legal_paragraph(const struct mime_line *l, size_t n, size_t i)
{
	static const char *const legal[] = { "intended recipient",
	    "sole use", "exclusive use", "unauthori", "prohibited",
	    "strictly forbidden", "protected health information",
	    "destinatario", "prohibid", NULL };
	size_t	j, k;

	for (j = i; j < n && j < i + 8 && l[j].len > 0; j++)
		for (k = 0; legal[k] != NULL; k++)
			if (find_ci(l[j].p, l[j].len, legal[k]) != NULL)
				return (1);
	return (0);
}

/*
 * Does line i open the legal notice a work or hospital account appends
 * ("CONFIDENTIALITY NOTICE: This e-mail and any attachments are for the
 * sole use of the intended recipient(s)...")? Its words say nothing of
 * the writer, yet "unauthorized review, use, disclosure" reads dark to
 * a word model. It must open like a notice and its paragraph (or, under
 * a heading alone, the next one) speak like one: a writer's own "This
 * email is private, please don't share it" or "Disclaimer: I'm safe" is
 * not one.
 */
static int
is_legal_notice(const struct mime_line *l, size_t n, size_t i)
{
	static const char *const open[] = { "confidential", "privileged",
	    "disclaimer", "notice", "important", "this e-mail", "this email",
	    "this message", "this communication", "this transmission",
	    "this electronic", "the information contained",
	    "the information in this", "the contents of this", "aviso",
	    "este mensaje", "este correo", "la informaci", NULL };
	const char	*p = l[i].p;
	size_t		 len = l[i].len, j, k;

	while (len > 0 && (*p == ' ' || *p == '\t' || *p == '*' ||
	    *p == '_' || *p == '[' || *p == '('))
		p++, len--;
	for (k = 0; open[k] != NULL; k++)
		if (prefix_ci(p, len, open[k]))
			break;
	if (open[k] == NULL)
		return (0);
	if (is_legal_paragraph(l, n, i))
		return (1);
	/* A heading alone: "CONFIDENTIALITY NOTICE", a blank line, the text. */
	if (len > 40 || i + 1 >= n || l[i + 1].len > 0)
		return (0);
	for (j = i + 1; j < n && l[j].len == 0; j++)
		;
	return (j < n && is_legal_paragraph(l, n, j));
}

/* Is line i where the quoted history or the signature begins? */
static int
is_cut(const struct mime_line *l, size_t n, size_t i)
{
	const char	*p = l[i].p;
	size_t		 len = l[i].len;

	if (l[i].rawlen == 3 && memcmp(p, "-- ", 3) == 0)
		return (1);
	if (is_forward_marker(p, len))
		return (1);
	if (is_outlook_head(l, n, i, 1))
		return (1);
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	if (prefix_ci(p, len, "From:") || prefix_ci(p, len, "Von:"))
		return (0);
	return (is_attribution(l, n, i));
}

/*
 * Does line i open the head of an earlier message the Outlook way (an
 * "Original Message" line, or "From:" with "Sent:" or "Date:" just
 * under it)? In a reply that is history; in mail whose subject says it
 * is a forward, it is the forwarded message. Outside a forward (whole),
 * the head must look whole: header lines only, naming To: or Subject:.
 */
static int
is_outlook_head(const struct mime_line *l, size_t n, size_t i, int whole)
{
	const char	*p = l[i].p;
	size_t		 len = l[i].len, j;
	int		 named;

	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	if (prefix_ci(p, len, "--") &&
	    (find_ci(p, len, "original message") != NULL ||
	    find_ci(p, len, "urspr\xc3\xbc" "ngliche nachricht") != NULL ||
	    find_ci(p, len, "mensaje original") != NULL))
		return (1);
	if (!prefix_ci(p, len, "From:") && !prefix_ci(p, len, "Von:") &&
	    !prefix_ci(p, len, "De:"))
		return (0);
	for (j = i + 1; j < n && j < i + 3; j++)
		if (prefix_ci(l[j].p, l[j].len, "Sent:") ||
		    prefix_ci(l[j].p, l[j].len, "Date:") ||
		    prefix_ci(l[j].p, l[j].len, "Gesendet:") ||
		    prefix_ci(l[j].p, l[j].len, "Datum:") ||
		    prefix_ci(l[j].p, l[j].len, "Enviado:") ||
		    prefix_ci(l[j].p, l[j].len, "Fecha:"))
			break;
	if (j == n || j == i + 3)
		return (0);
	if (!whole)
		return (1);
	/*
	 * Outlook's head is header lines only, up to its Subject: line or,
	 * with To:, the blank line; a web form's relay ("From: Jane",
	 * "Date: ...", "Phone: ...", "Message: ...") is the person's text.
	 */
	for (named = 0, j = i + 1; j < n && l[j].len > 0; j++) {
		if (l[j].p[0] == ' ' || l[j].p[0] == '\t')
			continue;
		if (!is_forward_header(l[j].p, l[j].len))
			return (0);
		if (prefix_ci(l[j].p, l[j].len, "Subject:") ||
		    prefix_ci(l[j].p, l[j].len, "Asunto:") ||
		    prefix_ci(l[j].p, l[j].len, "Betreff:"))
			return (1);
		named |= prefix_ci(l[j].p, l[j].len, "To:") ||
		    prefix_ci(l[j].p, l[j].len, "Para:") ||
		    prefix_ci(l[j].p, l[j].len, "An:");
	}
	return (named);
}

/* A header line of a forwarded message's head: "From: ...", "Date: ...". */
static int
is_forward_header(const char *p, size_t len)
{
	static const char *const names[] = { "From:", "Date:", "Sent:",
	    "Subject:", "To:", "Cc:", "Reply-To:", "De:", "Para:", "Fecha:",
	    "Enviado:", "Asunto:", "Von:", "Datum:", "Betreff:", "An:", NULL };
	size_t	k;

	for (k = 0; names[k] != NULL; k++)
		if (prefix_ci(p, len, names[k]))
			return (1);
	return (0);
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

/* Add a "> " line with one level of quoting taken off. */
static void
add_unquoted(struct buf *out, int *blanks, const char *p, size_t len)
{
	if (len > 0 && *p == '>') {
		p++, len--;
		if (len > 0 && *p == ' ')
			p++, len--;
	}
	add_line(out, blanks, p, len);
}

/* Where a line falls while the text is split (split_quoted). */
enum split_state {
	SPLIT_NEW,		/* what the writer typed */
	SPLIT_ATTRIBUTION,	/* an "On ... wrote:" over several lines */
	SPLIT_REPLY,		/* the "> " lines under an attribution */
	SPLIT_FORWARD_HEAD,	/* From:, Date:, ... of a forwarded message */
	SPLIT_FORWARD,		/* a forwarded message's text */
	SPLIT_NOTICE,		/* a legal notice, to its paragraph's end */
	SPLIT_REST		/* history, signature: quoted to the end */
};

/*
 * Split text into what the writer typed (body) and quoted history,
 * forwarded text and signature (quoted); the text of a forwarded message
 * goes to fwd too, when fwd is not NULL. Line endings become \n and
 * trailing whitespace goes.
 *
 * After an "On ... wrote:" attribution, the "> " lines are the history;
 * a line after them that is not quoted is the writer's again (an answer
 * under the quote, as many older writers put it). History without "> "
 * runs to the end, as does anything after a signature or an Outlook
 * header block, but where the subject says the mail is a forward
 * (forward set): there an Outlook header block opens the forwarded
 * message, as "Forwarded message" does, and Apple Mail's forward, every
 * line under "Begin forwarded message:" quoted with "> ", is forwarded
 * text one level down.
 */
static void
split_quoted(const char *text, size_t tlen, struct buf *body,
    struct buf *quoted, struct buf *fwd, int forward)
{
	struct mime_line	*l;
	char			*t;
	size_t			 n = 0, i, j, len, attr = 0, qlen;
	int			 bb = 0, qb = 0, fb = 0, seen_quote = 0;
	int			 fwd_quoted = 0;
	const char		*q;
	enum split_state	 st = SPLIT_NEW, resume = SPLIT_NEW, st_before;
	enum split_state	 notice_from = SPLIT_NEW;
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
	for (i = 0; i < n; i++) {
		p = l[i].p;
		len = l[i].len;
		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		switch (st) {
		case SPLIT_ATTRIBUTION:
			add_line(quoted, &qb, l[i].p, l[i].len);
			if ((len > 0 && p[len - 1] == ':') || ++attr == 3)
				st = SPLIT_REPLY;
			continue;
		case SPLIT_REPLY:
			if (len == 0 || *p == '>') {
				seen_quote |= len > 0;
				add_line(quoted, &qb, l[i].p, l[i].len);
				/*
				 * Under a reply inside a forward, the quote is
				 * forwarded too: "Forwarding what I sent her"
				 * passes on the writer's own first letter.
				 */
				if (resume == SPLIT_FORWARD && fwd != NULL)
					add_unquoted(fwd, &fb, p, len);
				continue;
			}
			if (!seen_quote) {
				st = SPLIT_REST;
				add_line(quoted, &qb, l[i].p, l[i].len);
				continue;
			}
			st = resume;
			break;
		case SPLIT_FORWARD_HEAD:
			if (len > 0 && *p == '>') {
				for (q = p + 1, qlen = len - 1; qlen > 0 &&
				    *q == ' '; q++, qlen--)
					;
				if (qlen == 0 || is_forward_header(q, qlen)) {
					fwd_quoted = 1;
					add_line(quoted, &qb, l[i].p, l[i].len);
					continue;
				}
			}
			if (len == 0 || is_forward_header(p, len)) {
				add_line(quoted, &qb, l[i].p, l[i].len);
				continue;
			}
			st = SPLIT_FORWARD;
			break;
		case SPLIT_REST:
			add_line(quoted, &qb, l[i].p, l[i].len);
			continue;
		case SPLIT_NOTICE:
			/*
			 * To the end of its paragraphs: what follows is the
			 * writer's again, or mail the notice heads, forwarded
			 * or replied to.
			 */
			if (len == 0 || (l[i - 1].len > 0 &&
			    !is_forward_marker(p, len) &&
			    !is_outlook_head(l, n, i, !forward) &&
			    !is_attribution(l, n, i)) ||
			    (l[i - 1].len == 0 && is_legal_paragraph(l, n, i))) {
				add_line(quoted, &qb, l[i].p, l[i].len);
				continue;
			}
			st = notice_from;
			break;
		default:
			break;
		}
		if (is_forward_marker(p, len) || (forward && st == SPLIT_NEW &&
		    is_outlook_head(l, n, i, 0))) {
			add_line(quoted, &qb, l[i].p, l[i].len);
			st = SPLIT_FORWARD_HEAD;
			continue;
		}
		if (is_cut(l, n, i)) {
			st_before = st;
			add_line(quoted, &qb, l[i].p, l[i].len);
			st = SPLIT_REST;
			if (is_attribution(l, n, i)) {
				/* A reply inside a forward stays forwarded. */
				resume = st_before;
				attr = 0;
				seen_quote = 0;
				st = len > 0 && p[len - 1] == ':' ?
				    SPLIT_REPLY : SPLIT_ATTRIBUTION;
			}
			continue;
		}
		/* Only under text of the writer's own (or the forwarded). */
		if (((st == SPLIT_NEW && body->len > 0) ||
		    (st == SPLIT_FORWARD && fwd != NULL && fwd->len > 0)) &&
		    is_legal_notice(l, n, i)) {
			add_line(quoted, &qb, l[i].p, l[i].len);
			notice_from = st;
			st = SPLIT_NOTICE;
			continue;
		}
		for (q = p + 1, qlen = len > 0 ? len - 1 : 0; qlen > 0 &&
		    *q == ' '; q++, qlen--)
			;
		if (len > 0 && *p == '>' && st == SPLIT_FORWARD && fwd_quoted &&
		    (qlen == 0 || *q != '>')) {
			/* Apple Mail's forward: one level of "> " is its. */
			add_line(quoted, &qb, l[i].p, l[i].len);
			if (fwd != NULL)
				add_line(fwd, &fb, q, qlen);
		} else if (len > 0 && *p == '>')
			add_line(quoted, &qb, l[i].p, l[i].len);
		else if (st == SPLIT_FORWARD) {
			add_line(quoted, &qb, l[i].p, l[i].len);
			if (fwd != NULL)
				add_line(fwd, &fb, l[i].p, l[i].len);
		} else
			add_line(body, &bb, l[i].p, l[i].len);
	}
	free(l);
	free(t);
}

/*
 * Does the subject say the mail is a forward ("Fwd:", "FW:", Spanish
 * "RV:", "Reenv:", French "TR:", German "WG:", "ENC:"; the rules' define
 * forward_subject holds the same, and Italian "I:"; only its first prefix
 * counts: "Re: Fwd: ..." is a reply), or a client portal's relay of
 * someone's message ("New secure message from Tamsin H.")?
 */
static int
subject_says_forward(const char *s)
{
	static const char *const pre[] = { "fwd", "fw", "rv", "reenv", "tr",
	    "wg", "enc", NULL };
	size_t	k, n;

	if (s == NULL)
		return (0);
	if (strcasestr(s, "new secure message from") != NULL ||
	    strcasestr(s, "new message from") != NULL ||
	    strcasestr(s, "new private message from") != NULL)
		return (1);
	while (*s == ' ' || *s == '\t')
		s++;
	for (k = 0; pre[k] != NULL; k++) {
		n = strlen(pre[k]);
		if (strncasecmp(s, pre[k], n) != 0)
			continue;
		s += n;
		while (*s == ' ')
			s++;
		return (*s == ':');
	}
	return (0);
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

/* Append one mailbox: display name (undecoded) and addr-spec as written. */
static void
add_mailbox(struct msg_addr **a, size_t *n, const char *name, size_t nlen,
    const char *addr, size_t alen)
{
	char	*tmp;

	trim(&addr, &alen);
	trim(&name, &nlen);
	if (alen == 0 && nlen == 0)
		return;
	if (*n >= MIME_MAX_ADDRS)
		return;
	*a = xreallocarray(*a, *n + 1, sizeof **a);
	(*a)[*n].name = decode_phrase(name, nlen);
	tmp = xstrndup(addr, alen);
	(*a)[*n].addr = mime_header_safe(tmp);
	free(tmp);
	(*n)++;
}

/* Drop the quotes and backslash escapes of quoted strings in a phrase. */
static void
unquote(struct buf *b)
{
	size_t	i, j;
	int	quoted = 0;

	for (i = j = 0; i < b->len; i++) {
		if (b->data[i] == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted && b->data[i] == '\\' && i + 1 < b->len)
			i++;
		b->data[j++] = b->data[i];
	}
	buf_cut(b, j);
}

/*
 * One mailbox s[0..n) of an address list: "phrase <addr>" or a bare
 * addr-spec with an optional "(comment)" naming it. Comments go, quoted
 * strings lose their quotes and escapes, an obsolete source route in
 * <@a,@b:addr> goes; what is left is kept as written (a bare address
 * with spaces stays invalid rather than being glued together).
 */
static void
parse_mailbox(struct msg_addr **a, size_t *n, const char *s, size_t len)
{
	struct buf	 name, addr, comment;
	const char	*r;
	size_t		 i;
	int		 depth = 0, quoted = 0, angle = 0, seen = 0;

	buf_init(&name, 0);
	buf_init(&addr, 0);
	buf_init(&comment, 0);
	for (i = 0; i < len; i++) {
		if (depth > 0) {
			if (s[i] == '\\' && i + 1 < len)
				buf_addch(&comment, s[++i]);
			else if (s[i] == '(')
				depth++;
			else if (s[i] == ')')
				depth--;
			else if (seen < 2)
				buf_addch(&comment, s[i]);
			if (depth == 0)
				seen = 2;
			continue;
		}
		if (quoted) {
			/* Kept as written; a phrase is unquoted later. */
			if (s[i] == '\\' && i + 1 < len)
				buf_addch(angle == 1 ? &addr : &name, s[i++]);
			else if (s[i] == '"')
				quoted = 0;
			buf_addch(angle == 1 ? &addr : &name, s[i]);
			continue;
		}
		if (s[i] == '(') {
			depth = 1;
			if (seen == 0)
				seen = 1;
		} else if (s[i] == '"') {
			quoted = 1;
			buf_addch(angle == 1 ? &addr : &name, '"');
		} else if (s[i] == '<' && angle == 0) {
			angle = 1;
		} else if (s[i] == '>' && angle == 1) {
			angle = 2;
		} else if (angle == 1) {
			buf_addch(&addr, s[i]);
		} else if (angle == 0) {
			buf_addch(&name, s[i]);
		}
	}
	if (angle == 0) {
		/* A bare addr-spec; a comment may carry the name. */
		add_mailbox(a, n, buf_str(&comment), comment.len,
		    buf_str(&name), name.len);
	} else {
		r = buf_str(&addr);
		i = addr.len;
		if (i > 0 && *r == '@' && memchr(r, ':', i) != NULL) {
			i -= (const char *)memchr(r, ':', i) + 1 - r;
			r = r + addr.len - i;
		}
		unquote(&name);
		add_mailbox(a, n, buf_str(&name), name.len, r, i);
	}
	buf_free(&name);
	buf_free(&addr);
	buf_free(&comment);
}

/*
 * Parse an address list (RFC 5322, leniently): mailboxes split at
 * commas outside quotes, comments and angle brackets; a group's name
 * and its ";" go and its members count as mailboxes. libetpan's parser
 * is not used: it stops at the first error and glues words together
 * (LIBRARIES.md TL;DR #14).
 */
static void
parse_addresses(const char *v, size_t len, struct msg_addr **a,
    size_t *n)
{
	size_t	i, start = 0;
	int	depth = 0, quoted = 0, angle = 0, at = 0;

	if (len > MIME_MAX_ADDR_TEXT)
		len = MIME_MAX_ADDR_TEXT;
	for (i = 0; i <= len; i++) {
		if (i < len && depth > 0) {
			if (v[i] == '\\' && i + 1 < len)
				i++;
			else if (v[i] == '(')
				depth++;
			else if (v[i] == ')')
				depth--;
			continue;
		}
		if (i < len && quoted) {
			if (v[i] == '\\' && i + 1 < len)
				i++;
			else if (v[i] == '"')
				quoted = 0;
			continue;
		}
		if (i < len && v[i] == '(')
			depth = 1;
		else if (i < len && v[i] == '"')
			quoted = 1;
		else if (i < len && v[i] == '<')
			angle = 1;
		else if (i < len && v[i] == '>')
			angle = 0;
		else if (i < len && v[i] == '@')
			at = 1;
		else if (i < len && v[i] == ':' && !angle && !at)
			start = i + 1;		/* a group's name */
		else if (i == len || ((v[i] == ',' || v[i] == ';') &&
		    !angle)) {
			parse_mailbox(a, n, v + start, i - start);
			start = i + 1;
			angle = at = 0;
		}
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
	char			*cs = NULL;
	size_t			 idx = 0;

	if (ctype != NULL && mailmime_content_parse(ctype, strlen(ctype),
	    &idx, &ct) == MAILIMF_NO_ERROR && ct != NULL)
		cs = part_charset(ct);
	text_to_utf8(&w->text, body, len, cs);
	free(cs);
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
	struct buf		 body, quoted, forwarded, history;
	char			*b, **rawv = NULL;
	size_t			 blen, hdr_end = 0, idx = 0;
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
	buf_init(&forwarded, 0);
	split_quoted(buf_str(&w.text), w.text.len, &body, &quoted, &forwarded,
	    subject_says_forward(m->subject));
	if (w.fwd.len > 0) {
		if (quoted.len > 0)
			buf_addch(&quoted, '\n');
		split_quoted(buf_str(&w.fwd), w.fwd.len, &quoted, &quoted,
		    NULL, 0);
		/* An attached message: its new text is forwarded text. */
		buf_init(&history, 0);
		if (forwarded.len > 0)
			buf_addch(&forwarded, '\n');
		split_quoted(buf_str(&w.fwd), w.fwd.len, &forwarded, &history,
		    &forwarded, 0);
		buf_free(&history);
	}
	m->body = buf_detach(&body, &blen);
	m->quoted = buf_detach(&quoted, NULL);
	m->forwarded = buf_detach(&forwarded, NULL);
	if (cap_text(m->body, lim.max_text))
		w.truncated = 1;
	if (cap_text(m->quoted, blen < lim.max_text ? lim.max_text - blen : 0))
		w.truncated = 1;
	if (cap_text(m->forwarded, blen < lim.max_text ? lim.max_text - blen :
	    0))
		w.truncated = 1;
	m->truncated |= w.truncated;

	buf_free(&w.text);
	buf_free(&w.fwd);
	xfreev(rawv, m->nheaders);
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
	free(m->forwarded);
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

/*
 * May code point cp stand in a domain label as written? Spaces, C1
 * controls, invisible and bidi formatting characters, U+FFFD (a
 * repaired byte) and the full-width dots that IDNA would read as label
 * separators are refused: they hide what the address really is.
 */
static int
domain_cp_ok(uint32_t cp)
{
	return (!(cp < 0xa1 || cp == 0xad || cp == 0x34f ||
	    (cp >= 0x115f && cp <= 0x1160) || cp == 0x1680 ||
	    (cp >= 0x180b && cp <= 0x180e) ||
	    (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
	    (cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0x3002 ||
	    cp == 0x3164 || (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0xfeff ||
	    cp == 0xff0e || cp == 0xff61 || cp == 0xffa0 ||
	    (cp >= 0xfff0 && cp <= 0xffff)));
}

/*
 * Dot-separated labels of [A-Za-z0-9-] or UTF-8 letters (IDN left as
 * written), at least one dot, and a top-level label that is not all
 * digits (a dotted quad is no domain; address literals are refused).
 */
static int
valid_domain(const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, j, k, label = 0, dots = 0, digits = 0;
	uint32_t		 cp;

	if (n == 0 || n > 253 || !utf8_valid(s, n))
		return (0);
	for (i = 0; i <= n; i += k) {
		k = 1;
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-' ||
			    s[i - label] == '-')
				return (0);
			if (i < n)
				dots++;
			else if (digits == label)
				return (0);
			label = digits = 0;
			continue;
		}
		if (u[i] >= 0x80) {
			k = utf8_seq(u + i, n - i);
			cp = k == 2 ? (u[i] & 0x1fu) : k == 3 ?
			    (u[i] & 0x0fu) : (u[i] & 0x07u);
			for (j = 1; j < k; j++)
				cp = cp << 6 | (u[i + j] & 0x3fu);
			if (!domain_cp_ok(cp))
				return (0);
		} else if (isdigit(u[i]))
			digits++;
		else if (!isalpha(u[i]) && u[i] != '-')
			return (0);
		label += k;
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
