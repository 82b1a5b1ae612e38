/* Collected file:line diagnostics for check and reload. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "diag.h"
#include "log.h"
#include "xmalloc.h"

void
diag_init(struct diag *d)
{
	d->items = NULL;
	d->n = d->cap = d->nerrors = 0;
}

static void
diag_vadd(struct diag *d, enum diag_severity sev, const char *file,
    unsigned line, unsigned col, const char *fmt, va_list ap)
{
	struct buf	 b;

	buf_init(&b, 0);
	if (file != NULL)
		buf_printf(&b, "%s:", file);
	if (file != NULL && line > 0)
		buf_printf(&b, "%u:", line);
	if (file != NULL && line > 0 && col > 0)
		buf_printf(&b, "%u:", col);
	if (file != NULL)
		buf_addch(&b, ' ');
	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? 8 : d->cap * 2;
		d->items = xreallocarray(d->items, d->cap, sizeof *d->items);
	}
	d->items[d->n].severity = sev;
	d->items[d->n].loc = buf_detach(&b, NULL);
	d->items[d->n].msg = xvasprintf(fmt, ap);
	d->n++;
	if (sev == DIAG_ERROR)
		d->nerrors++;
}

void
diag_add(struct diag *d, enum diag_severity sev, const char *file,
    unsigned line, unsigned col, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_vadd(d, sev, file, line, col, fmt, ap);
	va_end(ap);
}

void
diag_error(struct diag *d, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_vadd(d, DIAG_ERROR, file, line, 0, fmt, ap);
	va_end(ap);
}

void
diag_warning(struct diag *d, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_vadd(d, DIAG_WARNING, file, line, 0, fmt, ap);
	va_end(ap);
}

void
diag_print(const struct diag *d, void *fp)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		fprintf(fp, "%s%s%s\n", d->items[i].loc,
		    d->items[i].severity == DIAG_ERROR ? "" : "warning: ",
		    d->items[i].msg);
}

void
diag_log(const struct diag *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		log_warnx("%s%s%s", d->items[i].loc,
		    d->items[i].severity == DIAG_ERROR ? "" : "warning: ",
		    d->items[i].msg);
}

void
diag_free(struct diag *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++) {
		free(d->items[i].loc);
		free(d->items[i].msg);
	}
	free(d->items);
	diag_init(d);
}
