/* Logging: one line per event, level-filtered, to stderr or syslog. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>

#include "log.h"

static enum log_level	log_threshold = LOG_LEVEL_INFO;
static int		log_syslog;
static int		log_journal;	/* stderr is journald's: "<N>" prefixes */

void
log_init(enum log_level level, int use_syslog)
{
	log_threshold = level;
	log_syslog = use_syslog;
	/* systemd sets JOURNAL_STREAM for a service's stderr (sd-daemon(3)). */
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	if (use_syslog)
		openlog("triaged", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* Write one line; errnum >= 0 appends strerror. */
static void
log_vwrite(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	static const char	*names[] = { "error", "warning", "info",
				    "debug" };
	static const int	 prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
				    LOG_DEBUG };
	char			 line[2048];

	if (level > log_threshold)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	if (log_syslog) {
		if (errnum >= 0)
			syslog(prio[level], "%s: %s", line, strerror(errnum));
		else
			syslog(prio[level], "%s", line);
		return;
	}
	/* journald stamps the time and keeps the level from the prefix. */
	if (log_journal)
		fprintf(stderr, "<%d>", prio[level]);
	if (errnum >= 0)
		fprintf(stderr, "triaged: %s: %s: %s\n", names[level], line,
		    strerror(errnum));
	else
		fprintf(stderr, "triaged: %s: %s\n", names[level], line);
}

/* An error this process cannot get past by trying again. */
void
log_errx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, -1, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARN, -1, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_INFO, -1, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_DEBUG, -1, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(EX_SOFTWARE);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, -1, fmt, ap);
	va_end(ap);
	exit(EX_SOFTWARE);
}
