/*
 * SMTP delivery with libcurl. Each struct smtp owns one easy handle whose
 * TLS settings are fixed when it is made and never changed (libcurl 7.88
 * reuses a connection regardless of them: LIBRARIES.md TL;DR #4), so one
 * connection serves a whole batch. smtps:// is implicit TLS, smtp:// is
 * STARTTLS with CURLUSESSL_ALL, except to a loopback host, where it is
 * plain. Certificates and host names are always verified.
 *
 * libcurl has no option for RCPT parameters. It writes a recipient as
 * "RCPT TO:<%s>" after dropping one leading '<' and one trailing '>', so
 * "<a@b> NOTIFY=NEVER ORCPT=rfc822;<a@b" goes on the wire as
 * "RCPT TO:<a@b> NOTIFY=NEVER ORCPT=rfc822;<a@b>": the '>' curl appends
 * closes the ORCPT value, which RFC 3461 xtext allows. The parameters are
 * sent only when the server's EHLO offered DSN, which a NOOP on the fresh
 * connection reveals before the first message.
 */
#include <arpa/inet.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "log.h"
#include "smtp.h"
#include "xmalloc.h"

#define SMTP_TIMEOUT	60		/* seconds, when the config has 0 */
/*
 * Connecting, up to the greeting: a server that accepts TCP but never
 * speaks (frozen, overloaded) holds a pass for 5 s at most, not a minute.
 */
#define SMTP_CONNECT_TIMEOUT 5
#define SMTP_REPLY_MAX	400		/* bytes of server text kept */
#define SMTP_ADDR_MAX	254

struct smtp {
	CURL		*curl;
	int		 probed;	/* a connection's EHLO was seen */
	int		 dsn;		/* the server offers DSN */
	int		 dsn_refused;	/* it refused our NOTIFY: omit it */
	const char	*data;		/* the message being read by curl */
	size_t		 len;
	size_t		 off;
	char		 reply[SMTP_REPLY_MAX];	/* last server line */
	char		 errbuf[CURL_ERROR_SIZE];
};

/* Feed the message to curl from memory. */
static size_t
smtp_read_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct smtp	*s = arg;
	size_t		 n;

	n = s->len - s->off;
	if (size != 0 && n > nmemb * size)
		n = nmemb * size;
	memcpy(ptr, s->data + s->off, n);
	s->off += n;
	return (n);
}

/* Drop what a NOOP "downloads" (curl passes the reply as body). */
static size_t
smtp_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return (size * nmemb);
}

/*
 * Keep every server line (the last one is the final reply) and learn
 * from EHLO whether DSN is offered; a 220 (greeting, or STARTTLS go-ahead)
 * starts a new capability list.
 */
static size_t
smtp_header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct smtp	*s = arg;
	size_t		 n = size * nmemb, len, i;

	len = n;
	while (len > 0 && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
		len--;
	if (len >= 3 && strncmp(ptr, "220", 3) == 0)
		s->dsn = 0;
	if (len >= 7 && (strncmp(ptr, "250-", 4) == 0 ||
	    strncmp(ptr, "250 ", 4) == 0) &&
	    strncasecmp(ptr + 4, "DSN", 3) == 0 &&
	    (len == 7 || ptr[7] == ' '))
		s->dsn = 1;
	/* 221 answers the QUIT curl sends after a failure: keep the cause. */
	if (len >= 3 && strncmp(ptr, "221", 3) == 0)
		return (n);
	if (len >= sizeof s->reply)
		len = sizeof s->reply - 1;
	for (i = 0; i < len; i++) {
		/* Keep printable ASCII only: the text reaches logs and JSON. */
		s->reply[i] = (ptr[i] >= 0x20 && ptr[i] < 0x7f) ? ptr[i] : '?';
	}
	s->reply[len] = '\0';
	return (n);
}

/*
 * Check the URL and give it the submission port when it has none;
 * sets *implicit (smtps://) and *loopback. NULL and *cause if unusable.
 */
static char *
smtp_url(const char *url, int *implicit, int *loopback, char **cause)
{
	CURLU	*u;
	char	*scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	char	*full = NULL, *out = NULL;

	if ((u = curl_url()) == NULL)
		fatalx("curl_url: out of memory");
	if (url == NULL ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		*cause = xasprintf("smtp: bad url: %s", url != NULL ? url :
		    "(none)");
		goto out;
	}
	if (strcmp(scheme, "smtps") != 0 && strcmp(scheme, "smtp") != 0) {
		*cause = xasprintf("smtp: url must be smtps:// or smtp://");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		*cause = xasprintf("smtp: no user or password in the url; "
		    "use user and password_file");
		goto out;
	}
	*implicit = strcmp(scheme, "smtps") == 0;
	*loopback = conf_host_is_loopback(host);
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PORT, *implicit ? "465" : "587",
	    0) != CURLUE_OK) {
		*cause = xasprintf("smtp: bad url: %s", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
		*cause = xasprintf("smtp: bad url: %s", url);
		goto out;
	}
	out = xstrdup(full);

out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(full);
	curl_url_cleanup(u);
	return (out);
}

/* Set the credentials: password, or XOAUTH2 bearer token. */
static int
smtp_auth(struct smtp *s, const struct conf *conf, char **cause)
{
	char	*secret, *why = NULL;
	int	 rc;

	if (conf->smtp.user == NULL)
		return (0);
	if ((secret = conf_secret_read(&conf->smtp.secret, &why)) == NULL) {
		*cause = xasprintf("smtp: %s", why != NULL ? why :
		    "cannot read the secret");
		free(why);
		return (-1);
	}
	curl_easy_setopt(s->curl, CURLOPT_USERNAME, conf->smtp.user);
	if (conf->smtp.secret.oauth2_command != NULL)
		rc = curl_easy_setopt(s->curl, CURLOPT_XOAUTH2_BEARER, secret);
	else
		rc = curl_easy_setopt(s->curl, CURLOPT_PASSWORD, secret);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	if (rc != CURLE_OK) {
		*cause = xasprintf("smtp: %s", curl_easy_strerror(rc));
		return (-1);
	}
	return (0);
}

/* Make the handle with its TLS settings fixed for life; no connection yet. */
struct smtp *
smtp_open(const struct conf *conf, char **cause)
{
	struct smtp	*s;
	char		*url;
	long		 timeout;
	int		 implicit, loopback, rc;

	url = smtp_url(conf->smtp.url, &implicit, &loopback, cause);
	if (url == NULL)
		return (NULL);
	s = xcalloc(1, sizeof *s);
	if ((s->curl = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	timeout = conf->smtp.timeout != 0 ? (long)conf->smtp.timeout :
	    SMTP_TIMEOUT;

	rc = curl_easy_setopt(s->curl, CURLOPT_URL, url);
	free(url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR,
		    "smtp,smtps");
	/* Fixed for the handle's life: never changed on a live handle. */
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->curl, CURLOPT_USE_SSL,
		    (!implicit && loopback) ? (long)CURLUSESSL_NONE :
		    (long)CURLUSESSL_ALL);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(s->curl, CURLOPT_SSLVERSION,
		    (long)CURL_SSLVERSION_TLSv1_2);
	if (rc == CURLE_OK && conf->smtp.ca_file != NULL)
		rc = curl_easy_setopt(s->curl, CURLOPT_CAINFO,
		    conf->smtp.ca_file);
	if (rc != CURLE_OK) {
		*cause = xasprintf("smtp: %s", curl_easy_strerror(rc));
		smtp_close(&s);
		return (NULL);
	}
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT,
	    timeout < SMTP_CONNECT_TIMEOUT ? timeout : SMTP_CONNECT_TIMEOUT);
	curl_easy_setopt(s->curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout);
	/* The whole exchange: connect, TLS, AUTH, MAIL, RCPT, DATA. */
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, 3 * timeout);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_VERBOSE, 0L);
	curl_easy_setopt(s->curl, CURLOPT_SASL_IR, 1L);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, smtp_header_cb);
	curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, smtp_write_cb);
	curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, smtp_read_cb);
	curl_easy_setopt(s->curl, CURLOPT_READDATA, s);
	if (smtp_auth(s, conf, cause) == -1) {
		smtp_close(&s);
		return (NULL);
	}
	return (s);
}

/* Close the connection (QUIT) and forget the credentials. */
void
smtp_close(struct smtp **sp)
{
	struct smtp	*s = *sp;

	if (s == NULL)
		return;
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);	/* QUIT on a kept connection */
	explicit_bzero(s, sizeof *s);
	free(s);
	*sp = NULL;
}

/* An address fit for MAIL FROM or RCPT TO: no CR, LF, NUL, space or <>. */
static int
smtp_addr_ok(const char *addr, int empty_ok)
{
	const unsigned char	*p;
	size_t			 len;

	if (addr == NULL)
		return (0);
	len = strlen(addr);
	if (len == 0)
		return (empty_ok);
	if (len > SMTP_ADDR_MAX || strchr(addr, '@') == NULL ||
	    addr[0] == '@' || addr[len - 1] == '@')
		return (0);
	for (p = (const unsigned char *)addr; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			return (0);
	}
	return (1);
}

/*
 * The recipient as handed to curl: with DSN, the parameters ride after
 * the address and curl's closing '>' ends the xtext ORCPT value (RFC 3461
 * xtext: '+' and '=' and bytes outside 33..126 as +XX).
 */
static char *
smtp_rcpt_arg(const char *rcpt, int dsn)
{
	char		*out;
	size_t		 len, i, o;
	unsigned char	 c;

	if (!dsn)
		return (xasprintf("<%s>", rcpt));
	len = strlen(rcpt);
	out = xmalloc(len * 5 + sizeof "<> NOTIFY=NEVER ORCPT=rfc822;<");
	o = (size_t)sprintf(out, "<%s> NOTIFY=NEVER ORCPT=rfc822;<", rcpt);
	for (i = 0; i < len; i++) {
		c = (unsigned char)rcpt[i];
		if (c < 33 || c > 126 || c == '+' || c == '=')
			o += (size_t)sprintf(out + o, "+%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return (out);
}

/* Map curl's result and the server's reply to a status and a cause. */
static enum smtp_status
smtp_result(struct smtp *s, CURLcode rc, char **cause)
{
	const char	*detail;
	long		 code = 0;

	if (rc == CURLE_OK)
		return (SMTP_SENT);
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	detail = s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		*cause = xasprintf("smtp: certificate verification failed: "
		    "%s", detail);
		return (SMTP_DOWN);
	case CURLE_USE_SSL_FAILED:
		*cause = xasprintf("smtp: STARTTLS required but failed: %s",
		    detail);
		return (SMTP_DOWN);
	case CURLE_SSL_CONNECT_ERROR:
		*cause = xasprintf("smtp: TLS handshake failed: %s", detail);
		return (SMTP_DOWN);
	case CURLE_LOGIN_DENIED:
		/* Credentials are never the message's fault. */
		*cause = xasprintf("smtp: authentication failed: %s",
		    s->reply[0] != '\0' ? s->reply : detail);
		return (SMTP_DOWN);
	default:
		break;
	}
	/* RFC 4954: authentication required, too weak, invalid, expired. */
	if (code == 530 || code == 534 || code == 535 || code == 538) {
		*cause = xasprintf("smtp: authentication failed: %s",
		    s->reply[0] != '\0' ? s->reply : detail);
		return (SMTP_DOWN);
	}
	if (code >= 500 && code <= 599) {
		*cause = xasprintf("smtp: %s", s->reply[0] != '\0' ? s->reply :
		    detail);
		return (SMTP_PERM);
	}
	if (code >= 400 && code <= 499) {
		*cause = xasprintf("smtp: %s", s->reply[0] != '\0' ? s->reply :
		    detail);
		/* 421: the server is closing the session, not this reply. */
		return (code == 421 ? SMTP_DOWN : SMTP_TEMP);
	}
	/* No reply code: the connection failed or timed out. */
	*cause = xasprintf("smtp: %s", detail);
	return (SMTP_DOWN);
}

/* Run one transfer with fresh per-transfer state. */
static CURLcode
smtp_perform(struct smtp *s)
{
	s->reply[0] = '\0';
	s->errbuf[0] = '\0';
	s->off = 0;
	return (curl_easy_perform(s->curl));
}

/*
 * Connect (TLS, AUTH) and send a NOOP, so the EHLO reply is known before
 * the first RCPT; the connection stays open for the messages.
 */
static enum smtp_status
smtp_probe(struct smtp *s, char **cause)
{
	enum smtp_status	status;

	curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, "NOOP");
	status = smtp_result(s, smtp_perform(s), cause);
	curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, NULL);
	if (status == SMTP_SENT)
		s->probed = 1;
	else
		status = SMTP_DOWN;	/* a session problem, not the message */
	return (status);
}

/* Open the session now (see smtp.h). */
enum smtp_status
smtp_connect(struct smtp *s, char **cause)
{
	if (s->probed)
		return (SMTP_SENT);
	return (smtp_probe(s, cause));
}

/* One MAIL/RCPT/DATA transaction; *used_dsn says if NOTIFY was sent. */
static enum smtp_status
smtp_transaction(struct smtp *s, const char *from, const char *rcpt,
    int *used_dsn, char **cause)
{
	struct curl_slist	*list;
	enum smtp_status	 status;
	char			*arg, *mfrom;

	*used_dsn = s->dsn && !s->dsn_refused;
	arg = smtp_rcpt_arg(rcpt, *used_dsn);
	if ((list = curl_slist_append(NULL, arg)) == NULL)
		fatalx("curl_slist_append: out of memory");
	free(arg);
	mfrom = xasprintf("<%s>", from);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, mfrom);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, list);
	curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)s->len);
	status = smtp_result(s, smtp_perform(s), cause);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(list);
	free(mfrom);
	return (status);
}

/*
 * Send one message to one recipient, probing the server once first, and
 * retry once without DSN parameters if the server rejects their syntax.
 */
enum smtp_status
smtp_send(struct smtp *s, const char *from, const char *rcpt,
    const char *data, size_t len, char **cause)
{
	enum smtp_status	status;
	long			code = 0;
	int			used_dsn;

	if (!smtp_addr_ok(from, 1) || !smtp_addr_ok(rcpt, 0)) {
		*cause = xstrdup("smtp: unusable envelope address");
		return (SMTP_PERM);
	}
	if (!s->probed && (status = smtp_probe(s, cause)) != SMTP_SENT)
		return (status);
	s->data = data;
	s->len = len;
	status = smtp_transaction(s, from, rcpt, &used_dsn, cause);
	if (status == SMTP_PERM && used_dsn) {
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
		/* 501/555: the server offers DSN but refused our syntax. */
		if ((code == 501 || code == 555) &&
		    strncmp(s->errbuf, "RCPT", 4) == 0) {
			log_warnx("smtp: server refused NOTIFY=NEVER (%ld); "
			    "sending without DSN parameters", code);
			s->dsn_refused = 1;
			free(*cause);
			*cause = NULL;
			status = smtp_transaction(s, from, rcpt, &used_dsn,
			    cause);
		}
	}
	s->data = NULL;
	s->len = 0;
	return (status);
}
