/* Allocation helpers that never return NULL: out of memory is fatal. */
#ifndef TRIAGED_XMALLOC_H
#define TRIAGED_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* Free n strings and the array that holds them. */
void	 xfreev(char **, size_t);
/* Formatted string the caller frees. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list) __attribute__((format(printf, 1, 0)));

#endif
