/*
 * Configuration: the INI file of the contract, read with inih. Every
 * problem is collected as file:line: message so `triaged check` can show
 * them all at once.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ini.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "xmalloc.h"

#define CONF_SECRET_MAX	4096
#define CONF_SECRET_TIMEOUT 10	/* seconds for password_command */

/* Parser state shared with the inih callbacks. */
struct conf_parse {
	struct conf	*conf;
	struct diag	*diag;
	FILE		*fp;
	unsigned	 line;		/* line of the text inih saw last */
	unsigned	 next_line;	/* line the reader will return next */
	char		 seen[64][48];	/* "section.key" already set */
	size_t		 nseen;
	/* Where a key was set, for errors found after parsing. */
	unsigned	 line_imap_tls;
	unsigned	 line_smtp_url;
	unsigned	 line_smtp_from;
	unsigned	 line_known_senders;
	unsigned	 line_imap_secret;	/* password_file, for errors */
	unsigned	 line_alerts_to;
	unsigned	 line_crisis_to;
	unsigned	 line_digest_to;
	unsigned	 line_file_into;
	unsigned	 line_smtp_secret;
};

enum conf_value {
	CV_STRING,	/* copied as is */
	CV_PATH,	/* resolved against the config folder */
	CV_UINT,
	CV_DURATION,
	CV_SIZE,
	CV_LIST,	/* comma-separated, appended */
	CV_TLS,
	CV_FIRST_RUN,
	CV_SKIP_KNOWN,
	CV_CLOCK,	/* HH:MM, local time */
	CV_BOOL,	/* yes or no */
	CV_PLANNED	/* accepted, not used yet */
};

struct conf_key {
	const char	*section;
	const char	*name;
	enum conf_value	 type;
	size_t		 offset;	/* into struct conf */
};

#define K(s, n, t, f)	{ s, n, t, offsetof(struct conf, f) }
static const struct conf_key conf_keys[] = {
	K("imap", "host", CV_STRING, imap.host),
	K("imap", "port", CV_UINT, imap.port),
	K("imap", "tls", CV_TLS, imap.tls),
	K("imap", "ca_file", CV_PATH, imap.ca_file),
	K("imap", "user", CV_STRING, imap.user),
	K("imap", "password_file", CV_PATH, imap.secret.file),
	K("imap", "password_command", CV_STRING, imap.secret.command),
	K("imap", "oauth2_token_command", CV_STRING,
	    imap.secret.oauth2_command),
	K("imap", "mailbox", CV_STRING, imap.mailbox),
	K("imap", "timeout", CV_UINT, imap.timeout),
	K("imap", "batch", CV_UINT, imap.batch),
	K("imap", "fetch_max", CV_SIZE, imap.fetch_max),
	K("smtp", "url", CV_STRING, smtp.url),
	K("smtp", "user", CV_STRING, smtp.user),
	K("smtp", "password_file", CV_PATH, smtp.secret.file),
	K("smtp", "password_command", CV_STRING, smtp.secret.command),
	K("smtp", "oauth2_token_command", CV_STRING,
	    smtp.secret.oauth2_command),
	K("smtp", "from", CV_STRING, smtp.from),
	K("smtp", "ca_file", CV_PATH, smtp.ca_file),
	K("smtp", "envelope_from", CV_STRING, smtp.envelope_from),
	K("smtp", "timeout", CV_UINT, smtp.timeout),
	K("smtp", "retry_base", CV_DURATION, smtp.retry_base),
	K("triage", "rules", CV_PATH, triage.rules),
	K("triage", "templates", CV_PATH, triage.templates),
	K("triage", "state", CV_PATH, triage.state),
	K("triage", "addresses", CV_LIST, triage.addresses),
	K("triage", "first_run", CV_FIRST_RUN, triage.first_run),
	K("triage", "reply_max_age", CV_DURATION, triage.reply_max_age),
	K("triage", "reply_window", CV_DURATION, triage.reply_window),
	K("triage", "retention", CV_DURATION, triage.retention),
	K("triage", "known_senders", CV_PATH, triage.known_senders),
	K("triage", "skip_known", CV_SKIP_KNOWN, triage.skip_known),
	K("triage", "relays", CV_LIST, triage.relays),
	K("triage", "sent_folder", CV_STRING, triage.sent_folder),
	K("triage", "max_replies_per_hour", CV_UINT,
	    triage.max_replies_per_hour),
	K("triage", "poll_interval", CV_DURATION, triage.poll_interval),
	K("limits", "message_bytes", CV_SIZE, limits.message_bytes),
	K("limits", "mime_depth", CV_UINT, limits.mime_depth),
	K("limits", "mime_parts", CV_UINT, limits.mime_parts),
	K("limits", "text_bytes", CV_SIZE, limits.text_bytes),
	K("queue", "file_into", CV_STRING, queue.file_into),
	K("queue", "file_noise", CV_BOOL, queue.file_noise),
	K("alerts", "to", CV_STRING, alerts.to),
	K("alerts", "after", CV_DURATION, alerts.after),
	K("alerts", "crisis_to", CV_STRING, alerts.crisis_to),
	K("digest", "to", CV_STRING, digest.to),
	K("digest", "time", CV_CLOCK, digest.time),
	K("digest", "unanswered_after", CV_DURATION, digest.unanswered_after),
	K("digest", "include_details", CV_BOOL, digest.include_details),
};
#undef K

/*
 * Is host loopback, where plaintext is allowed? Decided by address, the
 * one test for check, IMAP and SMTP: "localhost", an IPv4 address in
 * 127.0.0.0/8, or ::1 (also in brackets, or as ::ffff:127.x.y.z). A name
 * is never resolved: 127.evil.example is not loopback.
 */
int
conf_host_is_loopback(const char *host)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	char		 buf[INET6_ADDRSTRLEN + 2];
	size_t		 len;

	if (host == NULL)
		return (0);
	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return (1);
	if (inet_pton(AF_INET, host, &a4) == 1)
		return ((ntohl(a4.s_addr) >> 24) == 127);
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		if (len - 2 >= sizeof buf)
			return (0);
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return (0);
	return (IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) &&
	    a6.s6_addr[12] == 127));
}

time_t
conf_parse_duration(const char *s)
{
	char		*end;
	unsigned long	 n;
	time_t		 unit = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || n > 100UL * 365 * 86400)
		return (-1);
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return (-1);
	}
	if (*end != '\0' && end[1] != '\0')
		return (-1);
	return ((time_t)n * unit);
}

/* Parse "256k", "1m" or plain bytes; 0 on error. */
static size_t
conf_parse_size(const char *s)
{
	char		*end;
	unsigned long	 n;

	if (s == NULL || !isdigit((unsigned char)*s))
		return (0);
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || n > 1024UL * 1024 * 1024)
		return (0);
	if (*end == 'k' || *end == 'K')
		n *= 1024, end++;
	else if (*end == 'm' || *end == 'M')
		n *= 1024 * 1024, end++;
	if (*end != '\0' || n > 1024UL * 1024 * 1024)
		return (0);
	return (n);
}

/* An absolute path for value: relative ones hang off the config folder. */
static char *
conf_resolve(const struct conf *conf, const char *value)
{
	if (value[0] == '/')
		return (xstrdup(value));
	return (xasprintf("%s/%s", conf->dir, value));
}

/* Trim spaces at both ends in place. */
static char *
conf_trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return (s);
}

/* Append the comma-separated items of value to a string list. */
static void
conf_list_add(char ***list, size_t *n, const char *value, int lower)
{
	char	*copy, *item, *next, *p;

	copy = xstrdup(value);
	for (item = copy; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		item = conf_trim(item);
		if (*item == '\0')
			continue;
		if (lower)
			for (p = item; *p != '\0'; p++)
				*p = tolower((unsigned char)*p);
		*list = xreallocarray(*list, *n + 1, sizeof **list);
		(*list)[(*n)++] = xstrdup(item);
	}
	free(copy);
}

/* Does a string hold a control character (never valid in our values)? */
static int
conf_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return (1);
	return (0);
}

/* Set one [practice] key (any key is allowed there). */
static void
conf_practice_set(struct conf_parse *cp, const char *name, const char *value)
{
	struct conf_practice	*p = &cp->conf->practice;
	size_t			 i;

	for (i = 0; i < p->n; i++) {
		if (strcmp(p->kv[i].key, name) == 0) {
			diag_error(cp->diag, cp->conf->path, cp->line,
			    "[practice] %s is set twice", name);
			return;
		}
	}
	for (i = 0; name[i] != '\0'; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-') {
			diag_error(cp->diag, cp->conf->path, cp->line,
			    "[practice] key \"%s\": use letters, digits, _ "
			    "and - only", name);
			return;
		}
	}
	p->kv = xreallocarray(p->kv, p->n + 1, sizeof *p->kv);
	p->kv[p->n].key = xstrdup(name);
	p->kv[p->n].value = xstrdup(value);
	p->n++;
}

/* Remember section.key; 1 if it was set before. */
static int
conf_seen(struct conf_parse *cp, const char *section, const char *name)
{
	char	key[48];
	size_t	i;

	snprintf(key, sizeof key, "%s.%s", section, name);
	for (i = 0; i < cp->nseen; i++)
		if (strcmp(cp->seen[i], key) == 0)
			return (1);
	if (cp->nseen < sizeof cp->seen / sizeof cp->seen[0])
		memcpy(cp->seen[cp->nseen++], key, sizeof key);
	return (0);
}

/* Is s a plain domain: letters, digits, '-' and '.', with a dot inside? */
static int
conf_domain_ok(const char *s)
{
	size_t	len = strlen(s), i;

	if (len < 3 || len > 253 || s[0] == '.' || s[len - 1] == '.' ||
	    strchr(s, '.') == NULL || strstr(s, "..") != NULL)
		return (0);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.')
			return (0);
	return (1);
}

/*
 * Is c allowed in an address pattern or a known-sender local part:
 * printable ASCII but spaces, specials and the quote characters?
 */
static int
conf_addr_char(char c)
{
	return ((unsigned char)c > 0x20 && (unsigned char)c < 0x7f &&
	    strchr("<>()[],;:\"\\@?", c) == NULL);
}

/* Is s "local@domain" or "@domain" (a known_senders line)? */
static int
conf_known_ok(const char *s)
{
	const char	*at, *p;

	if ((at = strchr(s, '@')) == NULL || at - s > 64)
		return (0);
	for (p = s; p < at; p++)
		if (!conf_addr_char(*p) || *p == '*')
			return (0);
	return (conf_domain_ok(at + 1));
}

/*
 * Is s a relay pattern: "local@domain", "@domain", either part with '*'
 * wildcards; one '@', no spaces or specials, a domain part.
 */
static int
conf_relay_ok(const char *s)
{
	const char	*at, *p;

	if ((at = strchr(s, '@')) == NULL || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || strlen(s) > 254)
		return (0);
	for (p = s; *p != '\0'; p++)
		if (p != at && !conf_addr_char(*p))
			return (0);
	return (1);
}

/* Add [triage] relays patterns, each checked; errors at the key's line. */
static void
conf_relays_add(struct conf_parse *cp, const char *value)
{
	struct conf	*conf = cp->conf;
	size_t		 before = conf->triage.nrelays, i;

	conf_list_add(&conf->triage.relays, &conf->triage.nrelays, value, 1);
	for (i = before; i < conf->triage.nrelays; i++) {
		if (conf_relay_ok(conf->triage.relays[i]))
			continue;
		diag_error(cp->diag, conf->path, cp->line, "[triage] relays: "
		    "\"%s\" is not an address, @domain or a pattern with *",
		    conf->triage.relays[i]);
	}
}

/*
 * Read the known_senders file: one address or @domain per line, '#'
 * starts a comment. Every bad line is an error at that file's line.
 */
/* An address written bare (admin@example.org), or a file:line error. */
static void
conf_check_address(struct conf_parse *cp, const char *key, const char *addr,
    unsigned line)
{
	if (addr != NULL && (strchr(addr, '@') == NULL ||
	    strpbrk(addr, " \t<>,;\"()") != NULL || addr[0] == '@'))
		diag_error(cp->diag, cp->conf->path, line, "%s: \"%s\" is not "
		    "an address (write it bare: admin@example.org)", key, addr);
}

static void
conf_known_load(struct conf_parse *cp)
{
	struct conf	*conf = cp->conf;
	const char	*path = conf->triage.known_senders;
	FILE		*fp;
	char		*line = NULL, *item, *hash, *q;
	size_t		 size = 0;
	ssize_t		 len;
	unsigned	 lineno = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		diag_error(cp->diag, conf->path, cp->line_known_senders,
		    "[triage] known_senders: %s: %s", path, strerror(errno));
		return;
	}
	while ((len = getline(&line, &size, fp)) != -1) {
		lineno++;
		if (memchr(line, '\0', (size_t)len) != NULL) {
			diag_error(cp->diag, path, lineno, "NUL in the line");
			continue;
		}
		/* A comment: '#' at the start or after white space. */
		for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++)
			if (hash == line || isspace((unsigned char)hash[-1])) {
				*hash = '\0';
				break;
			}
		item = conf_trim(line);
		if (*item == '\0')
			continue;
		for (q = item; *q != '\0'; q++)
			*q = tolower((unsigned char)*q);
		if (strlen(item) > 254 || !conf_known_ok(item)) {
			diag_error(cp->diag, path, lineno, "\"%.64s\" is not "
			    "an address or @domain", item);
			continue;
		}
		conf->triage.known = xreallocarray(conf->triage.known,
		    conf->triage.nknown + 1, sizeof *conf->triage.known);
		conf->triage.known[conf->triage.nknown++] = xstrdup(item);
	}
	if (ferror(fp))
		diag_error(cp->diag, path, lineno, "read error: %s",
		    strerror(errno));
	free(line);
	fclose(fp);
}

/* Store one typed value into the conf. */
static void
conf_set(struct conf_parse *cp, const struct conf_key *k, const char *value)
{
	struct conf	*conf = cp->conf;
	char		*base = (char *)conf + k->offset;
	char		**sp = (char **)base;
	unsigned long	 n;
	char		*end;
	time_t		 d;
	size_t		 sz;

	switch (k->type) {
	case CV_STRING:
	case CV_PATH:
		if (*value == '\0')
			return;		/* empty means "use the default" */
		free(*sp);
		*sp = k->type == CV_PATH ? conf_resolve(conf, value) :
		    xstrdup(value);
		break;
	case CV_UINT:
		errno = 0;
		n = strtoul(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0 ||
		    n > 65535 * 1000UL || !isdigit((unsigned char)*value)) {
			diag_error(cp->diag, conf->path, cp->line,
			    "[%s] %s: \"%s\" is not a number", k->section,
			    k->name, value);
			return;
		}
		*(unsigned *)base = (unsigned)n;
		break;
	case CV_DURATION:
		if ((d = conf_parse_duration(value)) == -1) {
			diag_error(cp->diag, conf->path, cp->line,
			    "[%s] %s: \"%s\" is not a duration (e.g. 3d, 12h, "
			    "30m, 45s)", k->section, k->name, value);
			return;
		}
		*(time_t *)base = d;
		break;
	case CV_SIZE:
		if ((sz = conf_parse_size(value)) == 0) {
			diag_error(cp->diag, conf->path, cp->line,
			    "[%s] %s: \"%s\" is not a size (e.g. 256k, 1m)",
			    k->section, k->name, value);
			return;
		}
		*(size_t *)base = sz;
		break;
	case CV_LIST:
		if (k->offset == offsetof(struct conf, triage.addresses))
			conf_list_add(&conf->triage.addresses,
			    &conf->triage.naddresses, value, 1);
		else
			conf_relays_add(cp, value);
		break;
	case CV_TLS:
		if (strcmp(value, "implicit") == 0)
			conf->imap.tls = CONF_TLS_IMPLICIT;
		else if (strcmp(value, "starttls") == 0)
			conf->imap.tls = CONF_TLS_STARTTLS;
		else if (strcmp(value, "none") == 0)
			conf->imap.tls = CONF_TLS_NONE;
		else
			diag_error(cp->diag, conf->path, cp->line,
			    "[imap] tls: \"%s\": use implicit, starttls or "
			    "none", value);
		cp->line_imap_tls = cp->line;
		break;
	case CV_FIRST_RUN:
		if (strcmp(value, "triage") == 0)
			conf->triage.first_run = CONF_FIRST_RUN_TRIAGE;
		else if (strcmp(value, "reply") == 0)
			conf->triage.first_run = CONF_FIRST_RUN_REPLY;
		else
			diag_error(cp->diag, conf->path, cp->line,
			    "[triage] first_run: \"%s\": use triage or reply",
			    value);
		break;
	case CV_SKIP_KNOWN:
		if (strcmp(value, "no") == 0)
			conf->triage.skip_known = CONF_SKIP_KNOWN_NO;
		else if (strcmp(value, "sent") == 0)
			conf->triage.skip_known = CONF_SKIP_KNOWN_SENT;
		else
			diag_error(cp->diag, conf->path, cp->line,
			    "[triage] skip_known: \"%s\": use no or sent",
			    value);
		break;
	case CV_CLOCK:
		n = strtoul(value, &end, 10);
		if (!isdigit((unsigned char)*value) || n > 23 || *end != ':' ||
		    !isdigit((unsigned char)end[1]) ||
		    !isdigit((unsigned char)end[2]) || end[3] != '\0' ||
		    strtoul(end + 1, NULL, 10) > 59) {
			diag_error(cp->diag, conf->path, cp->line,
			    "[%s] %s: \"%s\" is not a time of day (e.g. 07:30)",
			    k->section, k->name, value);
			return;
		}
		*(int *)base = (int)(n * 60 + strtoul(end + 1, NULL, 10)) + 1;
		break;
	case CV_BOOL:
		if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0)
			*(int *)base = strcmp(value, "yes") == 0;
		else
			diag_error(cp->diag, conf->path, cp->line,
			    "[%s] %s: \"%s\": use yes or no", k->section,
			    k->name, value);
		break;
	case CV_PLANNED:
		diag_warning(cp->diag, conf->path, cp->line,
		    "[%s] %s is not implemented yet and is ignored",
		    k->section, k->name);
		break;
	}
}

/* inih callback: one key = value line. Always continue parsing. */
static int
conf_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct conf_parse	*cp = arg;
	const struct conf_key	*k = NULL;
	size_t			 i;
	int			 section_known = 0;

	cp->line = cp->next_line - 1;
	if (conf_has_control(value)) {
		diag_error(cp->diag, cp->conf->path, cp->line,
		    "[%s] %s: control characters are not allowed", section,
		    name);
		return (1);
	}
	if (strcmp(section, "practice") == 0) {
		conf_practice_set(cp, name, value);
		return (1);
	}
	for (i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++) {
		if (strcmp(conf_keys[i].section, section) != 0)
			continue;
		section_known = 1;
		if (strcmp(conf_keys[i].name, name) == 0) {
			k = &conf_keys[i];
			break;
		}
	}
	if (k == NULL) {
		if (section_known)
			diag_error(cp->diag, cp->conf->path, cp->line,
			    "unknown key \"%s\" in [%s]", name, section);
		else
			diag_error(cp->diag, cp->conf->path, cp->line,
			    "unknown section [%s]", section);
		return (1);
	}
	if (conf_seen(cp, section, name) && k->type != CV_LIST) {
		diag_error(cp->diag, cp->conf->path, cp->line,
		    "[%s] %s is set twice", section, name);
		return (1);
	}
	if (strcmp(section, "smtp") == 0 && strcmp(name, "url") == 0)
		cp->line_smtp_url = cp->line;
	if (strcmp(section, "smtp") == 0 && strcmp(name, "from") == 0)
		cp->line_smtp_from = cp->line;
	if (strcmp(section, "triage") == 0 &&
	    strcmp(name, "known_senders") == 0)
		cp->line_known_senders = cp->line;
	if (strcmp(section, "alerts") == 0 && strcmp(name, "to") == 0)
		cp->line_alerts_to = cp->line;
	if (strcmp(section, "alerts") == 0 && strcmp(name, "crisis_to") == 0)
		cp->line_crisis_to = cp->line;
	if (strcmp(section, "digest") == 0 && strcmp(name, "to") == 0)
		cp->line_digest_to = cp->line;
	if (strcmp(section, "queue") == 0 && strcmp(name, "file_into") == 0)
		cp->line_file_into = cp->line;
	if (strcmp(name, "password_file") == 0)
		*(strcmp(section, "imap") == 0 ? &cp->line_imap_secret :
		    &cp->line_smtp_secret) = cp->line;
	conf_set(cp, k, value);
	return (1);
}

/*
 * inih reader: count lines, and refuse lines longer than inih's fixed
 * buffer instead of letting it split them into garbage.
 */
static char *
conf_reader(char *str, int num, void *arg)
{
	struct conf_parse	*cp = arg;
	size_t			 len;
	int			 c;

	if (fgets(str, num, cp->fp) == NULL)
		return (NULL);
	cp->next_line++;
	len = strlen(str);
	if (len > 0 && str[len - 1] != '\n' && !feof(cp->fp)) {
		diag_error(cp->diag, cp->conf->path, cp->next_line - 1,
		    "line too long (at most %d characters)", num - 2);
		while ((c = fgetc(cp->fp)) != EOF && c != '\n')
			;
		strcpy(str, ";\n");
	}
	return (str);
}

/* Split "Name <addr>" or "addr" into display name and address. */
static int
conf_split_from(struct conf *conf)
{
	const char	*lt, *gt;
	char		*name;

	lt = strrchr(conf->smtp.from, '<');
	gt = strrchr(conf->smtp.from, '>');
	if (lt != NULL) {
		if (gt == NULL || gt < lt || gt[1] != '\0')
			return (-1);
		name = xstrndup(conf->smtp.from, lt - conf->smtp.from);
		conf->smtp.from_name = xstrdup(conf_trim(name));
		free(name);
		conf->smtp.from_addr = xstrndup(lt + 1, gt - lt - 1);
	} else {
		conf->smtp.from_name = xstrdup("");
		conf->smtp.from_addr = xstrdup(conf->smtp.from);
	}
	/* Strip quotes around a display name. */
	name = conf->smtp.from_name;
	if (name[0] == '"' && strlen(name) >= 2 &&
	    name[strlen(name) - 1] == '"') {
		memmove(name, name + 1, strlen(name) - 2);
		name[strlen(name) - 2] = '\0';
	}
	if (strchr(conf->smtp.from_addr, '@') == NULL ||
	    strpbrk(conf->smtp.from_addr, " \t<>,;\"") != NULL ||
	    conf->smtp.from_addr[0] == '@')
		return (-1);
	return (0);
}

/* A regular file that only its owner may read. */
static int
conf_secret_mode_ok(const struct stat *st, const char *path, char **cause)
{
	if (!S_ISREG(st->st_mode)) {
		*cause = xasprintf("%s: not a regular file", path);
		return (-1);
	}
	if ((st->st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		*cause = xasprintf("%s: readable by group or others (mode "
		    "%03o); chmod 600 it", path,
		    (unsigned)(st->st_mode & 0777));
		return (-1);
	}
	return (0);
}

/* Is a secret file private to its owner? 0, or -1 with *cause. */
static int
conf_secret_file_ok(const char *path, char **cause)
{
	struct stat	st;

	if (lstat(path, &st) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return (-1);
	}
	if (S_ISLNK(st.st_mode)) {
		*cause = xasprintf("%s: a symbolic link; name the file itself",
		    path);
		return (-1);
	}
	return (conf_secret_mode_ok(&st, path, cause));
}

/* The same checks on a file already opened. */
static int
conf_secret_fd_ok(int fd, const char *path, char **cause)
{
	struct stat	st;

	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return (-1);
	}
	return (conf_secret_mode_ok(&st, path, cause));
}

/* Check a section's secret settings once the file is read. */
static void
conf_check_secret(struct conf_parse *cp, const char *section,
    const struct conf_secret *s, int required, unsigned line)
{
	char	*cause;
	int	 n = 0;

	n += s->file != NULL;
	n += s->command != NULL;
	n += s->oauth2_command != NULL;
	if (n > 1)
		diag_error(cp->diag, cp->conf->path, 0,
		    "[%s]: set only one of password_file, password_command "
		    "and oauth2_token_command", section);
	else if (n == 0 && required)
		diag_error(cp->diag, cp->conf->path, 0,
		    "[%s]: password_file, password_command or "
		    "oauth2_token_command is required", section);
	if (s->file != NULL && conf_secret_file_ok(s->file, &cause) == -1) {
		diag_error(cp->diag, cp->conf->path, line, "[%s] password_file "
		    "%s", section, cause);
		free(cause);
	}
}

static void	conf_check_file_into(struct conf_parse *);

/* Fill defaults and check what only the whole file can tell. */
static void
conf_finish(struct conf_parse *cp)
{
	struct conf	*conf = cp->conf;
	size_t		 i, j;

	if (conf->imap.host == NULL)
		diag_error(cp->diag, conf->path, 0, "[imap] host is required");
	if (conf->imap.user == NULL)
		diag_error(cp->diag, conf->path, 0, "[imap] user is required");
	conf_check_secret(cp, "imap", &conf->imap.secret, 1,
	    cp->line_imap_secret);
	if (conf->imap.tls == CONF_TLS_NONE &&
	    !conf_host_is_loopback(conf->imap.host))
		diag_error(cp->diag, conf->path, cp->line_imap_tls,
		    "[imap] tls = none is only allowed for a loopback host");
	if (conf->imap.port == 0)
		conf->imap.port = conf->imap.tls == CONF_TLS_IMPLICIT ?
		    993 : 143;
	if (conf->imap.port > 65535)
		diag_error(cp->diag, conf->path, 0,
		    "[imap] port must be below 65536");
	if (conf->imap.mailbox == NULL)
		conf->imap.mailbox = xstrdup("INBOX");
	if (conf->imap.timeout == 0)
		conf->imap.timeout = 60;
	if (conf->imap.batch == 0)
		conf->imap.batch = 200;
	if (conf->imap.fetch_max == 0)
		conf->imap.fetch_max = 256 * 1024;

	if (conf->smtp.url == NULL)
		diag_error(cp->diag, conf->path, 0, "[smtp] url is required");
	else if (strncmp(conf->smtp.url, "smtps://", 8) != 0 &&
	    strncmp(conf->smtp.url, "smtp://", 7) != 0)
		diag_error(cp->diag, conf->path, cp->line_smtp_url,
		    "[smtp] url must start with smtps:// or smtp://");
	if (conf->smtp.from == NULL)
		diag_error(cp->diag, conf->path, 0, "[smtp] from is required");
	else if (conf_split_from(conf) == -1)
		diag_error(cp->diag, conf->path, cp->line_smtp_from,
		    "[smtp] from: expected \"Name <address>\" or an address");
	if (conf->smtp.user != NULL)
		conf_check_secret(cp, "smtp", &conf->smtp.secret, 1,
		    cp->line_smtp_secret);
	else if (conf->smtp.secret.file != NULL ||
	    conf->smtp.secret.command != NULL)
		diag_error(cp->diag, conf->path, 0,
		    "[smtp]: a password is set but no user");
	if (conf->smtp.envelope_from == NULL)
		conf->smtp.envelope_from = xstrdup("");
	if (conf->smtp.timeout == 0)
		conf->smtp.timeout = 60;
	if (conf->smtp.retry_base == 0)
		conf->smtp.retry_base = 60;

	if (conf->triage.rules == NULL)
		conf->triage.rules = conf_resolve(conf, "rules");
	if (conf->triage.templates == NULL)
		conf->triage.templates = conf_resolve(conf, "templates");
	if (conf->triage.state == NULL)
		conf->triage.state = xstrdup("/var/lib/triaged/triaged.db");
	if (conf->triage.naddresses == 0) {
		if (conf->imap.user != NULL && strchr(conf->imap.user, '@'))
			conf_list_add(&conf->triage.addresses,
			    &conf->triage.naddresses, conf->imap.user, 1);
		if (conf->smtp.from_addr != NULL)
			conf_list_add(&conf->triage.addresses,
			    &conf->triage.naddresses, conf->smtp.from_addr, 1);
	}
	/* Drop duplicates from the address list. */
	for (i = 0; i < conf->triage.naddresses; i++) {
		for (j = i + 1; j < conf->triage.naddresses; j++) {
			if (strcmp(conf->triage.addresses[i],
			    conf->triage.addresses[j]) != 0)
				continue;
			free(conf->triage.addresses[j]);
			conf->triage.addresses[j] =
			    conf->triage.addresses[--conf->triage.naddresses];
			j--;
		}
	}
	if (conf->triage.reply_max_age == 0)
		conf->triage.reply_max_age = 3 * 86400;
	if (conf->triage.reply_window == 0)
		conf->triage.reply_window = 7 * 86400;
	if (conf->triage.retention == 0)
		conf->triage.retention = 90 * 86400;
	if (conf->alerts.after == 0)
		conf->alerts.after = 30 * 60;
	conf_check_address(cp, "[alerts] to", conf->alerts.to,
	    cp->line_alerts_to);
	conf_check_address(cp, "[alerts] crisis_to", conf->alerts.crisis_to,
	    cp->line_crisis_to);
	conf_check_address(cp, "[digest] to", conf->digest.to,
	    cp->line_digest_to);
	if (conf->digest.unanswered_after == 0)
		conf->digest.unanswered_after = 86400;
	if (conf->digest.time == 0)
		conf->digest.time = 7 * 60 + 1;
	if (conf->triage.max_replies_per_hour == 0)
		conf->triage.max_replies_per_hour = 30;
	if (conf->triage.poll_interval == 0)
		conf->triage.poll_interval = 60;
	if (conf->triage.known_senders != NULL)
		conf_known_load(cp);
	if (conf->queue.file_into != NULL)
		conf_check_file_into(cp);
}

/*
 * [queue] file_into: a folder path, "/" between levels, where %c stands
 * for the category's name and %% for a percent sign. Names come from the
 * configuration and the rules only, never from mail.
 */
static void
conf_check_file_into(struct conf_parse *cp)
{
	const char	*f = cp->conf->queue.file_into, *p;
	const char	*why = NULL;

	if (*f == '\0')
		why = "is empty";
	else if (*f == '/' || f[strlen(f) - 1] == '/' || strstr(f, "//"))
		why = "has an empty folder level (a '/' at either end or "
		    "twice)";
	for (p = f; why == NULL && *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' ||
		    *p == '\\' || *p == '*')
			why = "holds a control character, a quote, a "
			    "backslash or '*'";
		else if (*p == '%' && p[1] != 'c' && p[1] != '%')
			why = "has a '%' that is neither %c (the category) "
			    "nor %%";
		else if (*p == '%')
			p++;
	}
	if (why == NULL && strcasecmp(f, "INBOX") == 0)
		why = "is the inbox itself";
	if (why != NULL)
		diag_error(cp->diag, cp->conf->path, cp->line_file_into,
		    "[queue] file_into %s", why);
}

struct conf *
conf_load(const char *path, struct diag *diag)
{
	struct conf_parse	 cp;
	struct conf		*conf;
	char			*real, *slash;
	size_t			 before = diag->nerrors;
	int			 rc;

	memset(&cp, 0, sizeof cp);
	conf = xcalloc(1, sizeof *conf);
	conf->path = xstrdup(path);
	if ((cp.fp = fopen(path, "r")) == NULL) {
		diag_error(diag, path, 0, "%s", strerror(errno));
		conf_free(conf);
		return (NULL);
	}
	/* Relative paths hang off the folder of the real file. */
	if ((real = realpath(path, NULL)) == NULL)
		real = xstrdup(path);
	if ((slash = strrchr(real, '/')) != NULL) {
		*slash = '\0';
		conf->dir = xstrdup(real[0] == '\0' ? "/" : real);
	} else
		conf->dir = xstrdup(".");
	free(real);

	cp.conf = conf;
	cp.diag = diag;
	cp.next_line = 1;
	rc = ini_parse_stream(conf_reader, &cp, conf_handler, &cp);
	fclose(cp.fp);
	if (rc > 0 && diag->nerrors == before)
		diag_error(diag, path, (unsigned)rc, "syntax error: expected "
		    "[section] or key = value");
	else if (rc < 0)
		diag_error(diag, path, 0, "cannot read the file");
	conf_finish(&cp);
	if (diag->nerrors != before) {
		conf_free(conf);
		return (NULL);
	}
	return (conf);
}

/* Free a secret's settings. */
static void
conf_secret_free(struct conf_secret *s)
{
	free(s->file);
	free(s->command);
	free(s->oauth2_command);
}

void
conf_free(struct conf *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	free(conf->path);
	free(conf->dir);
	free(conf->imap.host);
	free(conf->imap.ca_file);
	free(conf->imap.user);
	conf_secret_free(&conf->imap.secret);
	free(conf->imap.mailbox);
	free(conf->smtp.url);
	free(conf->smtp.user);
	conf_secret_free(&conf->smtp.secret);
	free(conf->smtp.from);
	free(conf->smtp.from_name);
	free(conf->smtp.from_addr);
	free(conf->smtp.ca_file);
	free(conf->smtp.envelope_from);
	for (i = 0; i < conf->practice.n; i++) {
		free(conf->practice.kv[i].key);
		free(conf->practice.kv[i].value);
	}
	free(conf->practice.kv);
	free(conf->triage.rules);
	free(conf->triage.templates);
	free(conf->triage.state);
	xfreev(conf->triage.addresses, conf->triage.naddresses);
	free(conf->triage.known_senders);
	xfreev(conf->triage.known, conf->triage.nknown);
	xfreev(conf->triage.relays, conf->triage.nrelays);
	free(conf->triage.sent_folder);
	free(conf->queue.file_into);
	free(conf->alerts.to);
	free(conf->alerts.crisis_to);
	free(conf->digest.to);
	free(conf);
}

const char *
conf_practice_get(const struct conf *conf, const char *key)
{
	size_t	i;

	for (i = 0; i < conf->practice.n; i++)
		if (strcmp(conf->practice.kv[i].key, key) == 0)
			return (conf->practice.kv[i].value);
	return (NULL);
}

int
conf_is_our_address(const struct conf *conf, const char *addr)
{
	size_t	i;

	if (addr == NULL)
		return (0);
	for (i = 0; i < conf->triage.naddresses; i++)
		if (strcasecmp(conf->triage.addresses[i], addr) == 0)
			return (1);
	return (0);
}

/* Is addr (any case) in known_senders, as itself or by its @domain? */
int
conf_is_known_sender(const struct conf *conf, const char *addr)
{
	const char	*at;
	size_t		 i;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return (0);
	for (i = 0; i < conf->triage.nknown; i++) {
		if (conf->triage.known[i][0] == '@') {
			if (strcasecmp(conf->triage.known[i], at) == 0)
				return (1);
		} else if (strcasecmp(conf->triage.known[i], addr) == 0)
			return (1);
	}
	return (0);
}

/*
 * Does addr match a relay pattern? "@domain" is any sender at exactly
 * that domain; otherwise the pattern is matched whole, any case, with '*'
 * standing for any run of characters.
 */
int
conf_is_relay(const struct conf *conf, const char *addr)
{
	const char	*pat, *at;
	size_t		 i;

	if (addr == NULL || *addr == '\0' ||
	    (at = strrchr(addr, '@')) == NULL)
		return (0);
	for (i = 0; i < conf->triage.nrelays; i++) {
		pat = conf->triage.relays[i];
		if (pat[0] == '@' && strchr(pat, '*') == NULL) {
			if (strcasecmp(pat, at) == 0)
				return (1);
		} else if (pat[0] == '@') {
			if (fnmatch(pat + 1, at + 1, FNM_CASEFOLD) == 0)
				return (1);
		} else if (fnmatch(pat, addr, FNM_CASEFOLD) == 0)
			return (1);
	}
	return (0);
}

/*
 * Run a command through /bin/sh and keep its output, within
 * CONF_SECRET_TIMEOUT seconds: a hung helper (a password manager waiting
 * for a prompt nobody sees) must not hang the daemon. Its stdin is
 * /dev/null; its stderr stays ours, so its complaints reach the log.
 */
static char *
conf_secret_run(const char *command, char **cause)
{
	struct buf	 b;
	struct pollfd	 pfd;
	struct timespec	 now, end;
	char		 chunk[256];
	ssize_t		 n;
	pid_t		 pid;
	int		 fds[2], status, ms, timed_out = 0, devnull;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		*cause = xasprintf("cannot run the secret command: %s",
		    strerror(errno));
		return (NULL);
	}
	if ((pid = fork()) == -1) {
		*cause = xasprintf("cannot run the secret command: %s",
		    strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return (NULL);
	}
	if (pid == 0) {
		/* Its own process group: a timeout kills what it started. */
		setpgid(0, 0);
		if ((devnull = open("/dev/null", O_RDONLY)) != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);	/* also here: no race with the child's */
	close(fds[1]);
	buf_init(&b, CONF_SECRET_MAX);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += CONF_SECRET_TIMEOUT;
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (int)((end.tv_sec - now.tv_sec) * 1000 +
		    (end.tv_nsec - now.tv_nsec) / 1000000);
		if (ms <= 0) {
			timed_out = 1;
			break;
		}
		if ((n = poll(&pfd, 1, ms)) == 0 || (n == -1 &&
		    errno == EINTR))
			continue;
		if (n == -1)
			break;
		if ((n = read(fds[0], chunk, sizeof chunk)) > 0)
			buf_add(&b, chunk, (size_t)n);
		else if (n == 0 || errno != EINTR)
			break;
	}
	explicit_bzero(chunk, sizeof chunk);
	close(fds[0]);
	if (timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*cause = timed_out ? xasprintf("the secret command did not "
		    "finish within %d s", CONF_SECRET_TIMEOUT) :
		    xstrdup("the secret command failed");
		if (b.data != NULL)
			explicit_bzero(b.data, b.len);
		buf_free(&b);
		return (NULL);
	}
	return (buf_detach(&b, NULL));
}

char *
conf_secret_read(const struct conf_secret *s, char **cause)
{
	struct buf	 b;
	char		 chunk[256], *secret;
	ssize_t		 n;
	int		 fd;

	if (s->file != NULL) {
		/*
		 * Open first (never through a symlink), then check what was
		 * opened: no gap between the check and the read.
		 */
		if ((fd = open(s->file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		    O_NONBLOCK)) == -1) {
			*cause = errno == ELOOP ? xasprintf("%s: a symbolic "
			    "link; name the file itself", s->file) :
			    xasprintf("%s: %s", s->file, strerror(errno));
			return (NULL);
		}
		if (conf_secret_fd_ok(fd, s->file, cause) == -1) {
			close(fd);
			return (NULL);
		}
		buf_init(&b, CONF_SECRET_MAX);
		while ((n = read(fd, chunk, sizeof chunk)) > 0)
			buf_add(&b, chunk, (size_t)n);
		explicit_bzero(chunk, sizeof chunk);
		close(fd);
		secret = buf_detach(&b, NULL);
	} else if (s->command != NULL || s->oauth2_command != NULL) {
		secret = conf_secret_run(s->command != NULL ? s->command :
		    s->oauth2_command, cause);
		if (secret == NULL)
			return (NULL);
	} else {
		*cause = xstrdup("no password configured");
		return (NULL);
	}
	/* The secret is the first line. */
	secret[strcspn(secret, "\r\n")] = '\0';
	if (secret[0] == '\0') {
		free(secret);
		*cause = xstrdup("the secret is empty");
		return (NULL);
	}
	return (secret);
}

/* NULL-safe string equality. */
static int
conf_same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

int
conf_imap_differs(const struct conf_imap *a, const struct conf_imap *b)
{
	return (!conf_same_str(a->host, b->host) || a->port != b->port ||
	    a->tls != b->tls || !conf_same_str(a->ca_file, b->ca_file) ||
	    !conf_same_str(a->user, b->user) ||
	    !conf_same_str(a->secret.file, b->secret.file) ||
	    !conf_same_str(a->secret.command, b->secret.command) ||
	    !conf_same_str(a->secret.oauth2_command,
	    b->secret.oauth2_command) ||
	    !conf_same_str(a->mailbox, b->mailbox) ||
	    a->timeout != b->timeout);
}
