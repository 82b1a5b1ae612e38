/* Growable, capped, always NUL-terminated byte buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

/* Make room for n more bytes plus the NUL. */
static void
buf_grow(struct buf *b, size_t n)
{
	size_t	need = b->len + n + 1;

	if (need <= b->size)
		return;
	if (b->size == 0)
		b->size = 64;
	while (b->size < need)
		b->size *= 2;
	b->data = xreallocarray(b->data, 1, b->size);
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	int	rc = 0;

	if (b->max != 0 && b->len + n > b->max) {
		n = b->max > b->len ? b->max - b->len : 0;
		b->truncated = 1;
		rc = -1;
	}
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return (rc);
}

int
buf_addstr(struct buf *b, const char *s)
{
	return (buf_add(b, s, strlen(s)));
}

int
buf_addch(struct buf *b, char c)
{
	return (buf_add(b, &c, 1));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 rc;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	rc = buf_addstr(b, s);
	free(s);
	return (rc);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->truncated = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

const char *
buf_str(const struct buf *b)
{
	return (b->data != NULL ? b->data : "");
}

char *
buf_detach(struct buf *b, size_t *lenp)
{
	char	*p;

	if (b->data == NULL)
		buf_grow(b, 0), b->data[0] = '\0';
	p = b->data;
	if (lenp != NULL)
		*lenp = b->len;
	b->data = NULL;
	b->len = b->size = 0;
	b->truncated = 0;
	return (p);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}
