/*
 * Growable byte buffer with a hard cap (in the style of curl's dynbuf).
 * The data is always NUL-terminated so it can be used as a C string and
 * handed to parsers that read one byte past the end (libetpan's QP decoder).
 */
#ifndef TRIAGED_BUF_H
#define TRIAGED_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* NUL-terminated, may be NULL when empty */
	size_t	 len;
	size_t	 size;
	size_t	 max;		/* 0: no cap */
	int	 truncated;	/* an append was cut at max */
};

void	 buf_init(struct buf *, size_t max);
/* Append; past max the data is cut, truncated is set and -1 returned. */
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_addstr(struct buf *, const char *);
int	 buf_addch(struct buf *, char);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_reset(struct buf *);
/* Text so far ("" when empty); owned by the buffer. */
const char *buf_str(const struct buf *);
/* Hand the data to the caller, who frees it; the buffer is reset. */
char	*buf_detach(struct buf *, size_t *lenp);
void	 buf_free(struct buf *);

#endif
