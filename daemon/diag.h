/*
 * Diagnostics collected while loading config, rules and templates, so that
 * `triaged check` can print every error as file:line[:col]: message, not
 * only the first.
 */
#ifndef TRIAGED_DIAG_H
#define TRIAGED_DIAG_H

#include <stddef.h>

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING
};

struct diag_item {
	enum diag_severity	 severity;
	char			*loc;	/* "file:line[:col]: " or "" */
	char			*msg;
};

struct diag {
	struct diag_item	*items;
	size_t			 n;
	size_t			 cap;
	size_t			 nerrors;
};

void	diag_init(struct diag *);
/* line 0 omits the line, col 0 omits the column. */
void	diag_add(struct diag *, enum diag_severity, const char *file,
	    unsigned line, unsigned col, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
void	diag_error(struct diag *, const char *file, unsigned line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	diag_warning(struct diag *, const char *file, unsigned line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Print every item: "file:line:col: message", warnings with "warning: ". */
void	diag_print(const struct diag *, void *file);
/* Log every item (daemon reload). */
void	diag_log(const struct diag *);
void	diag_free(struct diag *);

#endif
