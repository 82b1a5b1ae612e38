/* Minimal JSON writer: strings escaped per RFC 8259, invalid UTF-8 replaced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "xmalloc.h"

/* Length of a valid UTF-8 sequence at s, or 0 if it is not valid. */
static size_t
json_utf8_len(const unsigned char *s)
{
	size_t	n, i;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return (0);
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return (0);
	/* Overlong, surrogate and out-of-range forms. */
	if (n == 3 && s[0] == 0xe0 && s[1] < 0xa0)
		return (0);
	if (n == 3 && s[0] == 0xed && s[1] >= 0xa0)
		return (0);
	if (n == 4 && s[0] == 0xf0 && s[1] < 0x90)
		return (0);
	if (n == 4 && s[0] == 0xf4 && s[1] >= 0x90)
		return (0);
	return (n);
}

void
json_string(struct buf *b, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n;

	buf_addch(b, '"');
	while (*s != '\0') {
		switch (*s) {
		case '"':
			buf_addstr(b, "\\\"");
			break;
		case '\\':
			buf_addstr(b, "\\\\");
			break;
		case '\n':
			buf_addstr(b, "\\n");
			break;
		case '\r':
			buf_addstr(b, "\\r");
			break;
		case '\t':
			buf_addstr(b, "\\t");
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				buf_printf(b, "\\u%04x", *s);
				break;
			}
			if ((n = json_utf8_len(s)) == 0) {
				buf_addstr(b, "\\ufffd");
				break;
			}
			buf_add(b, s, n);
			s += n;
			continue;
		}
		s++;
	}
	buf_addch(b, '"');
}

void
json_string_or_null(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_addstr(b, "null");
	else
		json_string(b, s);
}

void
json_csv_array(struct buf *b, const char *csv)
{
	const char	*p, *comma;
	char		*item;
	int		 first = 1;

	buf_addch(b, '[');
	for (p = csv; p != NULL && *p != '\0'; p = comma ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		item = comma ? xstrndup(p, comma - p) : xstrdup(p);
		if (*item != '\0') {
			if (!first)
				buf_addch(b, ',');
			json_string(b, item);
			first = 0;
		}
		free(item);
	}
	buf_addch(b, ']');
}
