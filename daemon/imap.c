/*
 * The IMAP client, on libetpan. libetpan checks no certificate, so every
 * TLS session is verified here with GnuTLS (chain and host name) before a
 * credential is sent; every string handed to libetpan is checked for CR,
 * LF and NUL (libetpan sends them raw); mail is fetched in one UID FETCH
 * per batch with BODY.PEEK, so \Seen is never set. libetpan types never
 * leave this file.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "buf.h"
#include "imap.h"
#include "log.h"
#include "mime.h"
#include "xmalloc.h"

/*
 * IDLE is ended and begun again every 30 s, and the server must confirm
 * the end within 10 s: a server that stopped (it still answers TCP
 * keepalives) is found within a minute, not at the next command.
 */
#define IMAP_IDLE_MAX	30
#define IMAP_CHECK_TIMEOUT 10
#define IMAP_HEADER_MAX	(1024 * 1024)	/* cap on one message's header */
#define IMAP_TEXT_MAX	200		/* server text quoted in a cause */
#define IMAP_LOGOUT_TIMEOUT 5		/* seconds to wait for LOGOUT */

struct imap {
	mailimap	*m;
	char		*host;
	char		*sent;		/* the \Sent mailbox, once found */
	size_t		 fetch_max;	/* text bytes per message */
	unsigned	 timeout;	/* [imap] timeout, seconds */
	int		 dead;		/* the session cannot be used */
	char		 delim;		/* hierarchy delimiter, once known */
	int		 delim_known;
};

/* What one UID FETCH collects, filled by the msg_att handler. */
struct imap_fetch_ctx {
	const uint32_t		*want;	/* sorted, unique */
	size_t			 nwant;
	unsigned char		*seen;	/* per want[]: already stored */
	struct imap_fetched	*out;
	size_t			 n;
	size_t			 cap;
};

/* Is s free of CR and LF (NUL ends it), so libetpan may send it? */
static int
imap_safe(const char *s)
{
	return (s != NULL && strpbrk(s, "\r\n") == NULL);
}

/* Is host an IP address literal (no SNI for those, RFC 6066)? */
static int
imap_is_ip(const char *host)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	return (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1);
}

/* A short description of a libetpan error code for causes. */
static const char *
imap_errstr(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
		return ("connection lost or timed out");
	case MAILIMAP_ERROR_PARSE:
		return ("unparsable server response");
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		return ("cannot connect");
	case MAILIMAP_ERROR_MEMORY:
		return ("out of memory");
	case MAILIMAP_ERROR_FATAL:
		return ("fatal error");
	case MAILIMAP_ERROR_PROTOCOL:
		return ("protocol error");
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		return ("the server refused the connection");
	case MAILIMAP_ERROR_SSL:
		return ("TLS handshake failed");
	case MAILIMAP_ERROR_STARTTLS:
		return ("STARTTLS refused");
	default:
		return ("command failed");
	}
}

/*
 * Connect plainly to host:port and read the first bytes within 3 s: 1 if
 * they are an IMAP greeting ("* OK", "* PREAUTH", "* BYE"), 0 if nothing
 * or something else came, -1 if no connection was made.
 */
static int
imap_probe_greeting(const char *host, unsigned port, char *buf, size_t size)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	struct pollfd	 pfd;
	char		 service[8];
	ssize_t		 n = -1;
	int		 fd = -1;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof service, "%u", port);
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return (-1);
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd != -1 && connect(fd, ai->ai_addr, ai->ai_addrlen) ==
		    -1) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd == -1)
		return (-1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 3000) == 1)
		n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	return (strncmp(buf, "* OK", 4) == 0 ||
	    strncmp(buf, "* PREAUTH", 9) == 0 ||
	    strncmp(buf, "* BYE", 5) == 0);
}

/* The server of the session being opened or used, for library noise. */
static const char	*imap_current_host;

/*
 * libetpan reports a failed TLS read or handshake with gnutls_perror(),
 * which prints a bare "GnuTLS error: ..." on stderr, naming no connection.
 * Defined here, ours takes the library's place (the executable's symbol
 * wins at dynamic linking): the line names the connection and goes to the
 * log at debug level, since the failed IMAP command is logged anyway.
 */
void
gnutls_perror(int error)
{
	log_debug("imap: %s: TLS: %s", imap_current_host != NULL ?
	    imap_current_host : "(no connection)", gnutls_strerror(error));
}

/* Does error r leave the session unusable (the caller reconnects)? */
static int
imap_fatal_error(int r)
{
	return (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PROTOCOL ||
	    r == MAILIMAP_ERROR_PARSE || r == MAILIMAP_ERROR_FATAL ||
	    r == MAILIMAP_ERROR_MEMORY || r == MAILIMAP_ERROR_BAD_STATE);
}

/* The server's last response text, printable and short; caller frees. */
static char *
imap_server_text(const struct imap *im)
{
	const char	*s = im->m != NULL ? im->m->imap_response : NULL;
	char		*t;
	size_t		 i;

	if (s == NULL || *s == '\0')
		return (xstrdup("no response text"));
	t = xstrndup(s, IMAP_TEXT_MAX);
	for (i = 0; t[i] != '\0'; i++) {
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			t[i] = '?';
	}
	return (t);
}

/*
 * Set *cause for a failed command (what) with libetpan error r; errors
 * that break the session mark it dead. Returns -1.
 */
static int
imap_fail(struct imap *im, int r, const char *what, char **cause)
{
	char	*text;

	if (imap_fatal_error(r)) {
		im->dead = 1;
		*cause = xasprintf("imap: %s: %s: %s", im->host, what,
		    imap_errstr(r));
	} else {
		text = imap_server_text(im);
		*cause = xasprintf("imap: %s: %s failed: %s", im->host, what,
		    text);
		free(text);
	}
	return (-1);
}

/* Refuse to use a session already known to be broken. */
static int
imap_usable(struct imap *im, char **cause)
{
	if (im == NULL || im->dead || im->m == NULL) {
		*cause = xasprintf("imap: %s: connection lost",
		    im != NULL ? im->host : "-");
		return (0);
	}
	return (1);
}

/* Add one UTF-16 unit to the base64 part of a modified UTF-7 name. */
static void
imap_mutf7_unit(struct buf *b, uint32_t *bits, int *nbits, uint32_t unit)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789+,";

	*bits = (*bits << 16) | unit;
	*nbits += 16;
	while (*nbits >= 6) {
		buf_addch(b, b64[(*bits >> (*nbits - 6)) & 0x3f]);
		*nbits -= 6;
	}
	*bits &= (1U << *nbits) - 1;
}

/* Close the base64 part of a modified UTF-7 name. */
static void
imap_mutf7_flush(struct buf *b, uint32_t *bits, int *nbits)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789+,";

	if (*nbits > 0)
		buf_addch(b, b64[(*bits << (6 - *nbits)) & 0x3f]);
	buf_addch(b, '-');
	*bits = 0;
	*nbits = 0;
}

/*
 * Encode a UTF-8 mailbox name as IMAP modified UTF-7 (RFC 3501 5.1.3),
 * which libetpan does not do; refuses control characters and invalid
 * UTF-8. Returns a string the caller frees, or NULL with *cause set.
 */
static char *
imap_mutf7(const char *name, char **cause)
{
	const unsigned char	*p = (const unsigned char *)name;
	struct buf		 b;
	uint32_t		 cp, bits = 0;
	int			 nbits = 0, in64 = 0, len, i;

	if (name == NULL || *name == '\0') {
		*cause = xstrdup("imap: empty mailbox name");
		return (NULL);
	}
	buf_init(&b, 4096);
	while (*p != '\0') {
		if (*p >= 0x20 && *p < 0x7f) {
			if (in64) {
				imap_mutf7_flush(&b, &bits, &nbits);
				in64 = 0;
			}
			if (*p == '&')
				buf_addstr(&b, "&-");
			else
				buf_addch(&b, (char)*p);
			p++;
			continue;
		}
		if (*p < 0x80)
			goto bad;
		if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			len = 2;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			len = 3;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			len = 4;
		} else
			goto bad;
		for (i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		p += len;
		if (!in64) {
			buf_addch(&b, '&');
			in64 = 1;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			imap_mutf7_unit(&b, &bits, &nbits, 0xd800 + (cp >> 10));
			imap_mutf7_unit(&b, &bits, &nbits,
			    0xdc00 + (cp & 0x3ff));
		} else
			imap_mutf7_unit(&b, &bits, &nbits, cp);
	}
	if (in64)
		imap_mutf7_flush(&b, &bits, &nbits);
	if (b.truncated) {
		buf_free(&b);
		*cause = xstrdup("imap: mailbox name too long");
		return (NULL);
	}
	return (buf_detach(&b, NULL));

bad:
	buf_free(&b);
	*cause = xstrdup("imap: mailbox name with a control character or "
	    "invalid UTF-8");
	return (NULL);
}

/* May keyword go into a STORE? Atom characters only, no backslash. */
static int
imap_keyword_ok(const char *kw)
{
	const unsigned char	*p;

	if (kw == NULL || *kw == '\0' || strlen(kw) > 128)
		return (0);
	for (p = (const unsigned char *)kw; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p))
			return (0);
	}
	return (1);
}

/* Set SNI before the handshake (libetpan sends none by itself). */
static void
imap_tls_setup(struct mailstream_ssl_context *ctx, void *arg)
{
	struct imap	*im = arg;

	if (!imap_is_ip(im->host))
		mailstream_ssl_set_server_name(ctx, im->host);
}

/*
 * Verify the server's certificate chain and host name with GnuTLS,
 * against ca_file or the system trust store. libetpan has accepted any
 * certificate, so this must run after the handshake and before LOGIN.
 */
static int
imap_verify(struct imap *im, const char *ca_file, char **cause)
{
	mailstream_low			*low;
	carray				*chain = NULL;
	gnutls_x509_crt_t		*crts = NULL;
	gnutls_x509_trust_list_t	 tl = NULL;
	gnutls_typed_vdata_st		 vd[2];
	gnutls_datum_t			 der, out;
	MMAPString			*s;
	unsigned			 status, i, n = 0, ncrts = 0;
	int				 ret, rc = -1;

	low = mailstream_get_low(im->m->imap_stream);
	if (low != NULL)
		chain = mailstream_low_get_certificate_chain(low);
	if (chain == NULL || carray_count(chain) == 0) {
		*cause = xasprintf("imap: certificate verification failed "
		    "for %s: no certificate", im->host);
		goto out;
	}
	n = carray_count(chain);
	crts = xcalloc(n, sizeof *crts);
	for (i = 0; i < n; i++) {
		s = carray_get(chain, i);
		if (gnutls_x509_crt_init(&crts[i]) < 0)
			fatalx("gnutls_x509_crt_init");
		ncrts++;
		der.data = (unsigned char *)s->str;
		der.size = (unsigned)s->len;
		ret = gnutls_x509_crt_import(crts[i], &der,
		    GNUTLS_X509_FMT_DER);
		if (ret < 0) {
			*cause = xasprintf("imap: certificate verification "
			    "failed for %s: %s", im->host,
			    gnutls_strerror(ret));
			goto out;
		}
	}

	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		fatalx("gnutls_x509_trust_list_init");
	if (ca_file != NULL && *ca_file != '\0') {
		ret = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
		if (ret <= 0) {
			*cause = xasprintf("imap: cannot load CA file %s: %s",
			    ca_file, ret < 0 ? gnutls_strerror(ret) :
			    "no certificate in it");
			goto out;
		}
	} else {
		ret = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
		if (ret <= 0) {
			*cause = xasprintf("imap: certificate verification "
			    "failed for %s: no system trust store", im->host);
			goto out;
		}
	}

	vd[0].type = GNUTLS_DT_DNS_HOSTNAME;
	vd[0].data = (unsigned char *)im->host;
	vd[0].size = 0;
	vd[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	vd[1].size = 0;
	ret = gnutls_x509_trust_list_verify_crt2(tl, crts, n, vd, 2, 0,
	    &status, NULL);
	if (ret < 0) {
		*cause = xasprintf("imap: certificate verification failed "
		    "for %s: %s", im->host, gnutls_strerror(ret));
		goto out;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) < 0) {
			*cause = xasprintf("imap: certificate verification "
			    "failed for %s: status 0x%x", im->host, status);
		} else {
			/* GnuTLS ends the text with a space. */
			for (i = out.size; i > 0 && (out.data[i - 1] == ' ' ||
			    out.data[i - 1] == '\0'); i--)
				out.data[i - 1] = '\0';
			*cause = xasprintf("imap: certificate verification "
			    "failed for %s: %s", im->host, out.data);
			gnutls_free(out.data);
		}
		goto out;
	}
	rc = 0;

out:
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	if (chain != NULL) {
		for (i = 0; i < carray_count(chain); i++)
			mmap_string_free(carray_get(chain, i));
		carray_free(chain);
	}
	return (rc);
}

/* Log in with the password or an XOAUTH2 token; the secret is wiped. */
static int
imap_login(struct imap *im, const struct conf_imap *c, char **cause)
{
	char	*secret, *why = NULL;
	int	 r, oauth2 = c->secret.oauth2_command != NULL;

	if (oauth2 && !mailimap_has_xoauth2(im->m)) {
		*cause = xasprintf("imap: %s: the server does not offer "
		    "XOAUTH2", im->host);
		return (-1);
	}
	if ((secret = conf_secret_read(&c->secret, &why)) == NULL) {
		*cause = xasprintf("imap: %s: %s", im->host,
		    why != NULL ? why : "cannot read the secret");
		free(why);
		return (-1);
	}
	if (!imap_safe(secret))
		r = MAILIMAP_ERROR_INVAL;
	else if (oauth2)
		r = mailimap_oauth2_authenticate(im->m, c->user, secret);
	else
		r = mailimap_login(im->m, c->user, secret);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	if (r != MAILIMAP_NO_ERROR) {
		imap_fail(im, r, oauth2 ? "AUTHENTICATE XOAUTH2" : "LOGIN",
		    &why);
		/* Say where the credential came from, never what it is. */
		*cause = xasprintf("%s; check [imap] user (%s) and %s%s",
		    why, c->user, c->secret.file != NULL ? "the password in " :
		    c->secret.command != NULL ? "what password_command prints" :
		    "what oauth2_token_command prints",
		    c->secret.file != NULL ? c->secret.file : "");
		free(why);
		return (-1);
	}
	return (0);
}

/*
 * What a failed connection most likely means, from what a short plain
 * probe of the port shows: an IMAP greeting on a port configured for
 * implicit TLS means the port speaks STARTTLS (or nothing); silence on a
 * port configured for STARTTLS or none is typical of implicit TLS. The
 * hint is static text, appended to the cause.
 */
static const char *
imap_connect_hint(const struct conf_imap *c, int r)
{
	char	greeting[16];
	int	plain;

	if (r == MAILIMAP_ERROR_CONNECTION_REFUSED)
		return ("; is the server up, and are [imap] host and port "
		    "right?");
	plain = imap_probe_greeting(c->host, c->port, greeting,
	    sizeof greeting);
	if (c->tls == CONF_TLS_IMPLICIT && plain == 1)
		return ("; this port answers in plain text (it speaks "
		    "STARTTLS): set tls = starttls, or the implicit TLS "
		    "port (usually 993)");
	if (c->tls != CONF_TLS_IMPLICIT && plain == 0)
		return ("; this port sends no IMAP greeting (it may expect "
		    "implicit TLS): set tls = implicit, or the STARTTLS port "
		    "(usually 143)");
	return ("");
}

/*
 * Change the read timeout of a live session. mailimap_set_timeout alone
 * reaches only connections made after it: the stream's low level keeps
 * the timeout it was connected with, so it is set there too.
 */
static void
imap_set_timeout(struct imap *im, unsigned secs)
{
	mailstream_low	*low;

	mailimap_set_timeout(im->m, secs);
	if (im->m->imap_stream != NULL &&
	    (low = mailstream_get_low(im->m->imap_stream)) != NULL)
		mailstream_low_set_timeout(low, secs);
}

/*
 * TCP keepalive (first probe after 30 s idle, then every 10 s, 3 lost
 * ones end it): a link that a NAT box or a dead peer dropped is noticed
 * during a long IDLE. A stopped server process is found by the IDLE
 * check instead, since its kernel still answers the probes.
 */
static void
imap_keepalive(struct imap *im)
{
	mailstream_low	*low;
	int		 fd, on = 1, idle = 30, intvl = 10, cnt = 3;

	if (im->m->imap_stream == NULL ||
	    (low = mailstream_get_low(im->m->imap_stream)) == NULL ||
	    (fd = mailstream_low_get_fd(low)) < 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
	    sizeof idle) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof intvl) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) == -1)
		log_debug("imap: %s: TCP keepalive: %s", im->host,
		    strerror(errno));
}

/* Ask for CAPABILITY again (stale after STARTTLS, LIBRARIES 1.1). */
static int
imap_refresh_capability(struct imap *im, char **cause)
{
	struct mailimap_capability_data	*cap = NULL;
	int				 r;

	r = mailimap_capability(im->m, &cap);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_fail(im, r, "CAPABILITY", cause));
	mailimap_capability_data_free(cap);
	return (0);
}

/* Connect, secure and verify the connection, then log in (imap.h). */
struct imap *
imap_open(const struct conf *conf, char **cause)
{
	const struct conf_imap	*c = &conf->imap;
	struct imap		*im;
	int			 r, preauth;

	if (c->host == NULL || *c->host == '\0' || !imap_safe(c->host)) {
		*cause = xstrdup("imap: no usable host name");
		return (NULL);
	}
	if (c->user == NULL || !imap_safe(c->user)) {
		*cause = xasprintf("imap: %s: no usable user name", c->host);
		return (NULL);
	}
	if (c->port == 0 || c->port > 65535) {
		*cause = xasprintf("imap: %s: bad port %u", c->host, c->port);
		return (NULL);
	}
	/* config.c checks this too; a plaintext password must not leave. */
	if (c->tls == CONF_TLS_NONE && !conf_host_is_loopback(c->host)) {
		*cause = xasprintf("imap: %s: tls = none is refused for a "
		    "host that is not loopback", c->host);
		return (NULL);
	}

	im = xcalloc(1, sizeof *im);
	im->host = xstrdup(c->host);
	imap_current_host = im->host;
	im->fetch_max = c->fetch_max > 0 ? c->fetch_max : 256 * 1024;
	if (im->fetch_max > UINT32_MAX)
		im->fetch_max = UINT32_MAX;
	if ((im->m = mailimap_new(0, NULL)) == NULL)
		fatalx("mailimap_new: out of memory");
	mailimap_set_timeout(im->m, c->timeout);
	im->timeout = c->timeout;

	if (c->tls == CONF_TLS_IMPLICIT)
		r = mailimap_ssl_connect_with_callback(im->m, im->host,
		    (uint16_t)c->port, imap_tls_setup, im);
	else
		r = mailimap_socket_connect(im->m, im->host,
		    (uint16_t)c->port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		*cause = xasprintf("imap: %s port %u: %s%s", im->host, c->port,
		    imap_errstr(r), imap_connect_hint(c, r));
		goto fail;
	}
	preauth = r == MAILIMAP_NO_ERROR_AUTHENTICATED;
	imap_keepalive(im);

	if (c->tls == CONF_TLS_STARTTLS) {
		/* After PREAUTH, STARTTLS is impossible: never go plain. */
		if (preauth) {
			*cause = xasprintf("imap: %s: PREAUTH greeting on a "
			    "STARTTLS connection; refused", im->host);
			goto fail;
		}
		r = mailimap_socket_starttls_with_callback(im->m,
		    imap_tls_setup, im);
		if (r != MAILIMAP_NO_ERROR) {
			*cause = xasprintf("imap: %s: STARTTLS failed: %s",
			    im->host, imap_errstr(r));
			goto fail;
		}
	}
	if (c->tls != CONF_TLS_NONE) {
		if (imap_verify(im, c->ca_file, cause) == -1)
			goto fail;
		log_debug("imap: %s: certificate verified", im->host);
	}
	if (c->tls == CONF_TLS_STARTTLS &&
	    imap_refresh_capability(im, cause) == -1)
		goto fail;
	if (!preauth && imap_login(im, c, cause) == -1)
		goto fail;
	/* Not every server sends CAPABILITY after login; IDLE needs it. */
	if (imap_refresh_capability(im, cause) == -1)
		goto fail;
	log_debug("imap: %s: logged in%s", im->host,
	    mailimap_has_idle(im->m) ? " (IDLE)" : "");
	return (im);

fail:
	/* Send nothing more on a connection that failed. */
	im->dead = 1;
	imap_close(&im);
	return (NULL);
}

/* Log out (unless the session is dead) and free everything. */
void
imap_close(struct imap **imp)
{
	struct imap	*im = *imp;

	if (im == NULL)
		return;
	if (im->m != NULL) {
		if (!im->dead && im->m->imap_stream != NULL) {
			imap_set_timeout(im, IMAP_LOGOUT_TIMEOUT);
			mailimap_logout(im->m);
		}
		/* mailimap_free would send LOGOUT: not on a dead session. */
		if (im->m->imap_stream != NULL) {
			mailstream_close(im->m->imap_stream);
			im->m->imap_stream = NULL;
			im->m->imap_state = MAILIMAP_STATE_DISCONNECTED;
		}
		mailimap_free(im->m);
	}
	if (imap_current_host == im->host)
		imap_current_host = NULL;
	free(im->host);
	free(im->sent);
	free(im);
	*imp = NULL;
}

static char	*imap_folder_wire(struct imap *, const char *, char **);

/* SELECT name (as the server spells it; mailbox for causes). */
static int
imap_select_wire(struct imap *im, char *name, const char *mailbox,
    uint32_t *uidvalidity, uint32_t *uidnext, char **cause)
{
	struct mailimap_selection_info	*si;
	char				*what;
	int				 r;

	r = mailimap_select(im->m, name);
	free(name);
	if (r != MAILIMAP_NO_ERROR) {
		what = xasprintf("SELECT %s", mailbox);
		imap_fail(im, r, what, cause);
		free(what);
		return (-1);
	}
	si = im->m->imap_selection_info;
	if (si == NULL || si->sel_uidvalidity == 0) {
		*cause = xasprintf("imap: %s: SELECT %s: no UIDVALIDITY",
		    im->host, mailbox);
		return (-1);
	}
	*uidvalidity = si->sel_uidvalidity;
	*uidnext = si->sel_uidnext;
	/* From here on, an EXISTS means new mail for imap_wait. */
	si->sel_has_exists = 0;
	return (0);
}

/* SELECT a mailbox and report UIDVALIDITY and UIDNEXT. */
int
imap_select(struct imap *im, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *uidnext, char **cause)
{
	char	*name;

	if (!imap_usable(im, cause))
		return (-1);
	if ((name = imap_mutf7(mailbox, cause)) == NULL)
		return (-1);
	return (imap_select_wire(im, name, mailbox, uidvalidity, uidnext,
	    cause));
}

/* imap_select of a file_into folder ("/" between levels). */
int
imap_select_folder(struct imap *im, const char *folder, uint32_t *uidvalidity,
    uint32_t *uidnext, char **cause)
{
	char	*name;

	if (!imap_usable(im, cause))
		return (-1);
	if ((name = imap_folder_wire(im, folder, cause)) == NULL)
		return (-1);
	return (imap_select_wire(im, name, folder, uidvalidity, uidnext,
	    cause));
}

/* qsort comparison for UIDs. */
static int
imap_uid_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

/* Sort and deduplicate n UIDs in place, dropping 0; returns the count. */
static size_t
imap_uid_sort(uint32_t *uids, size_t n)
{
	size_t	i, k = 0;

	if (n == 0)
		return (0);
	qsort(uids, n, sizeof *uids, imap_uid_cmp);
	for (i = 0; i < n; i++) {
		if (uids[i] == 0 || (k > 0 && uids[k - 1] == uids[i]))
			continue;
		uids[k++] = uids[i];
	}
	return (k);
}

/* A libetpan set of sorted unique UIDs, as ranges (1:5,7,9:10). */
static struct mailimap_set *
imap_uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set	*set;
	size_t			 i, j;

	if ((set = mailimap_set_new_empty()) == NULL)
		fatalx("mailimap_set_new_empty: out of memory");
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && uids[j] == uids[j - 1] + 1; j++)
			;
		if (mailimap_set_add_interval(set, uids[i], uids[j - 1]) !=
		    MAILIMAP_NO_ERROR)
			fatalx("mailimap_set_add_interval: out of memory");
	}
	return (set);
}

/*
 * Run UID SEARCH with key (freed here) and return the UIDs above after,
 * sorted and unique (NULL and 0 when there are none). 0 or -1.
 */
static int
imap_uid_search_key(struct imap *im, struct mailimap_search_key *key,
    uint32_t after, uint32_t **uids, size_t *n, char **cause)
{
	clist		*list = NULL;
	clistiter	*it;
	uint32_t	*u, *out;
	size_t		 k = 0;
	int		 r;

	if (key == NULL)
		fatalx("mailimap_search_key_new_uid: out of memory");
	r = mailimap_uid_search(im->m, NULL, key, &list);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_fail(im, r, "UID SEARCH", cause));
	out = xcalloc(clist_count(list) + 1, sizeof *out);
	for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
		u = clist_content(it);
		/* n:* always matches the last message, even at or below n. */
		if (u != NULL && *u > after)
			out[k++] = *u;
	}
	mailimap_search_result_free(list);
	if ((k = imap_uid_sort(out, k)) == 0) {
		free(out);
		return (0);
	}
	*uids = out;
	*n = k;
	return (0);
}

/* The set of the UIDs, sorted and unique; NULL when there are none. */
static struct mailimap_set *
imap_sorted_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set	*set = NULL;
	uint32_t		*sorted;

	sorted = xcalloc(n + 1, sizeof *sorted);
	if (n > 0)
		memcpy(sorted, uids, n * sizeof *sorted);
	if ((n = imap_uid_sort(sorted, n)) > 0)
		set = imap_uid_set(sorted, n);
	free(sorted);
	return (set);
}

/* UID SEARCH UID after+1:*, keeping only UIDs above after, ascending. */
int
imap_search_after(struct imap *im, uint32_t after, uint32_t **uids,
    size_t *n, char **cause)
{
	*uids = NULL;
	*n = 0;
	if (!imap_usable(im, cause))
		return (-1);
	if (after == UINT32_MAX)
		return (0);
	return (imap_uid_search_key(im, mailimap_search_key_new_uid(
	    mailimap_set_new_interval(after + 1, 0)), after, uids, n, cause));
}

/* Is the session still usable after a failed command? */
int
imap_alive(const struct imap *im)
{
	return (im != NULL && !im->dead && im->m != NULL);
}

/* UID SEARCH UID set: which of the UIDs still exist, ascending. */
int
imap_search_uids(struct imap *im, const uint32_t *uids, size_t n,
    uint32_t **out, size_t *nout, char **cause)
{
	struct mailimap_set	*set;

	*out = NULL;
	*nout = 0;
	if (!imap_usable(im, cause))
		return (-1);
	if ((set = imap_sorted_set(uids, n)) == NULL)
		return (0);
	return (imap_uid_search_key(im, mailimap_search_key_new_uid(set), 0,
	    out, nout, cause));
}

/* The category of a $Triage_ keyword, or NULL. */
static const char *
imap_triage_category(const struct mailimap_flag_fetch *ff)
{
	const char	*kw;

	if (ff == NULL || ff->fl_type != MAILIMAP_FLAG_FETCH_OTHER ||
	    ff->fl_flag == NULL || ff->fl_flag->fl_type !=
	    MAILIMAP_FLAG_KEYWORD ||
	    (kw = ff->fl_flag->fl_data.fl_keyword) == NULL ||
	    strncasecmp(kw, "$Triage_", 8) != 0 || kw[8] == '\0')
		return (NULL);
	return (kw + 8);
}

/* One message's flags as imap_fetch_flags reads them. */
static void
imap_flags_read(const struct mailimap_msg_att_dynamic *dyn,
    struct imap_flags *f)
{
	struct mailimap_flag_fetch	*ff;
	clistiter			*it;
	const char			*cat;

	if (dyn == NULL || dyn->att_list == NULL)
		return;
	for (it = clist_begin(dyn->att_list); it != NULL;
	    it = clist_next(it)) {
		ff = clist_content(it);
		if (ff != NULL && ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER &&
		    ff->fl_flag != NULL &&
		    ff->fl_flag->fl_type == MAILIMAP_FLAG_ANSWERED)
			f->answered = 1;
		if (ff != NULL && ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER &&
		    ff->fl_flag != NULL &&
		    ff->fl_flag->fl_type == MAILIMAP_FLAG_DELETED)
			f->deleted = 1;
		if ((cat = imap_triage_category(ff)) == NULL)
			continue;
		if (f->ntriage++ == 0)
			f->triage = xstrdup(cat);
	}
}

/* qsort comparison for imap_flags, by UID. */
static int
imap_flags_cmp(const void *a, const void *b)
{
	const struct imap_flags	*x = a, *y = b;

	return (x->uid < y->uid ? -1 : x->uid > y->uid);
}

/* One UID FETCH (UID FLAGS) of the UIDs: what still exists, and how. */
int
imap_fetch_flags(struct imap *im, const uint32_t *uids, size_t n,
    struct imap_flags **out, size_t *nout, char **cause)
{
	struct mailimap_fetch_type	*ft;
	struct mailimap_set		*set;
	struct mailimap_msg_att		*att;
	struct mailimap_msg_att_item	*item;
	struct imap_flags		*r = NULL, f;
	clist				*list = NULL;
	clistiter			*it, *jt;
	uint32_t			*want;
	size_t				 k = 0, nwant, i;
	int				 rc;

	*out = NULL;
	*nout = 0;
	if (!imap_usable(im, cause))
		return (-1);
	want = xcalloc(n + 1, sizeof *want);
	if (n > 0)
		memcpy(want, uids, n * sizeof *want);
	if ((nwant = imap_uid_sort(want, n)) == 0) {
		free(want);
		return (0);
	}
	if ((ft = mailimap_fetch_type_new_fetch_att_list_empty()) == NULL)
		fatalx("mailimap_fetch_type_new: out of memory");
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_flags());
	set = imap_uid_set(want, nwant);
	rc = mailimap_uid_fetch(im->m, set, ft, &list);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (rc != MAILIMAP_NO_ERROR) {
		if (list != NULL)
			mailimap_fetch_list_free(list);
		free(want);
		return (imap_fail(im, rc, "UID FETCH FLAGS", cause));
	}
	r = xcalloc(nwant, sizeof *r);
	for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
		if ((att = clist_content(it)) == NULL || att->att_list == NULL)
			continue;
		memset(&f, 0, sizeof f);
		for (jt = clist_begin(att->att_list); jt != NULL;
		    jt = clist_next(jt)) {
			item = clist_content(jt);
			if (item == NULL)
				continue;
			if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC)
				imap_flags_read(item->att_data.att_dyn, &f);
			else if (item->att_type ==
			    MAILIMAP_MSG_ATT_ITEM_STATIC &&
			    item->att_data.att_static != NULL &&
			    item->att_data.att_static->att_type ==
			    MAILIMAP_MSG_ATT_UID)
				f.uid = item->att_data.att_static->att_data
				    .att_uid;
		}
		/* Only the UIDs asked for, each once (no unsolicited ones). */
		for (i = 0; i < nwant && want[i] != f.uid; i++)
			;
		if (f.uid == 0 || i == nwant || k == nwant) {
			free(f.triage);
			continue;
		}
		want[i] = 0;
		r[k++] = f;
	}
	mailimap_fetch_list_free(list);
	free(want);
	if (k > 1)
		qsort(r, k, sizeof *r, imap_flags_cmp);
	*out = r;
	*nout = k;
	return (0);
}

void
imap_flags_free(struct imap_flags *f, size_t n)
{
	size_t	i;

	if (f == NULL)
		return;
	for (i = 0; i < n; i++)
		free(f[i].triage);
	free(f);
}

/* INTERNALDATE with its zone as UTC seconds; 0 if it makes no sense. */
static time_t
imap_date_utc(const struct mailimap_date_time *d)
{
	struct tm	tm;
	time_t		t;
	int		zone, off;

	if (d == NULL || d->dt_year < 1970 || d->dt_year > 9999 ||
	    d->dt_month < 1 || d->dt_month > 12 || d->dt_day < 1 ||
	    d->dt_day > 31 || d->dt_hour < 0 || d->dt_hour > 23 ||
	    d->dt_min < 0 || d->dt_min > 59 || d->dt_sec < 0 ||
	    d->dt_sec > 60)
		return (0);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = d->dt_year - 1900;
	tm.tm_mon = d->dt_month - 1;
	tm.tm_mday = d->dt_day;
	tm.tm_hour = d->dt_hour;
	tm.tm_min = d->dt_min;
	tm.tm_sec = d->dt_sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return (0);
	zone = d->dt_zone < 0 ? -d->dt_zone : d->dt_zone;
	if (zone % 100 > 59 || zone / 100 > 23)
		return (t);
	off = (zone / 100) * 3600 + (zone % 100) * 60;
	return (d->dt_zone < 0 ? t + off : t - off);
}

/* Which part of the message does a BODY[...] response hold? */
static int
imap_section_type(const struct mailimap_msg_att_body_section *bs)
{
	const struct mailimap_section_spec	*spec;

	if (bs->sec_section == NULL ||
	    (spec = bs->sec_section->sec_spec) == NULL ||
	    spec->sec_type != MAILIMAP_SECTION_SPEC_SECTION_MSGTEXT ||
	    spec->sec_data.sec_msgtext == NULL)
		return (-1);
	return (spec->sec_data.sec_msgtext->sec_type);
}

/*
 * Called by libetpan for each FETCH response as it arrives (the data is
 * freed right after): keep the requested messages, ignore the rest
 * (unsolicited flag updates, messages not asked for, repeats).
 */
/*
 * Does a FLAGS list hold a $Triage_ keyword? A message that carries one
 * was triaged before, by a state this one does not remember.
 */
static int
imap_flags_triaged(const struct mailimap_msg_att_dynamic *dyn)
{
	struct mailimap_flag_fetch	*ff;
	clistiter			*it;

	if (dyn == NULL || dyn->att_list == NULL)
		return (0);
	for (it = clist_begin(dyn->att_list); it != NULL;
	    it = clist_next(it)) {
		ff = clist_content(it);
		if (ff != NULL && ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER &&
		    ff->fl_flag != NULL &&
		    ff->fl_flag->fl_type == MAILIMAP_FLAG_KEYWORD &&
		    ff->fl_flag->fl_data.fl_keyword != NULL &&
		    strncasecmp(ff->fl_flag->fl_data.fl_keyword, "$Triage_",
		    8) == 0)
			return (1);
	}
	return (0);
}

static void
imap_fetch_handler(struct mailimap_msg_att *att, void *arg)
{
	struct imap_fetch_ctx			*ctx = arg;
	struct mailimap_msg_att_item		*item;
	struct mailimap_msg_att_static		*st;
	struct mailimap_msg_att_body_section	*bs;
	struct imap_fetched			*f;
	clistiter				*it;
	const uint32_t				*pos;
	const char				*hdr = NULL, *text = NULL;
	size_t					 hlen = 0, tlen = 0, idx;
	uint32_t				 uid = 0, size = 0;
	time_t					 date = 0;
	int					 have_hdr = 0, triaged = 0;

	if (att == NULL || att->att_list == NULL)
		return;
	for (it = clist_begin(att->att_list); it != NULL;
	    it = clist_next(it)) {
		item = clist_content(it);
		if (item != NULL && item->att_type ==
		    MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			triaged |= imap_flags_triaged(item->att_data.att_dyn);
			continue;
		}
		if (item == NULL || item->att_type !=
		    MAILIMAP_MSG_ATT_ITEM_STATIC ||
		    (st = item->att_data.att_static) == NULL)
			continue;
		switch (st->att_type) {
		case MAILIMAP_MSG_ATT_UID:
			uid = st->att_data.att_uid;
			break;
		case MAILIMAP_MSG_ATT_INTERNALDATE:
			date = imap_date_utc(st->att_data.att_internal_date);
			break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			size = st->att_data.att_rfc822_size;
			break;
		case MAILIMAP_MSG_ATT_BODY_SECTION:
			if ((bs = st->att_data.att_body_section) == NULL)
				break;
			switch (imap_section_type(bs)) {
			case MAILIMAP_SECTION_MSGTEXT_HEADER:
				have_hdr = 1;
				hdr = bs->sec_body_part;
				hlen = hdr != NULL ? bs->sec_length : 0;
				break;
			case MAILIMAP_SECTION_MSGTEXT_TEXT:
				text = bs->sec_body_part;
				tlen = text != NULL ? bs->sec_length : 0;
				break;
			}
			break;
		}
	}
	if (uid == 0 || !have_hdr)
		return;
	pos = bsearch(&uid, ctx->want, ctx->nwant, sizeof *ctx->want,
	    imap_uid_cmp);
	if (pos == NULL)
		return;
	idx = (size_t)(pos - ctx->want);
	if (ctx->seen[idx])
		return;
	ctx->seen[idx] = 1;

	if (ctx->n == ctx->cap) {
		ctx->cap = ctx->cap == 0 ? 16 : ctx->cap * 2;
		ctx->out = xreallocarray(ctx->out, ctx->cap, sizeof *ctx->out);
	}
	f = &ctx->out[ctx->n++];
	memset(f, 0, sizeof *f);
	f->uid = uid;
	f->internaldate = date;
	f->size = size;
	f->triaged = triaged;
	if (hlen >= IMAP_HEADER_MAX) {
		/* A cut header cannot be followed by the text. */
		tlen = 0;
		f->truncated = 1;
	}
	f->len = hlen + tlen;
	f->raw = xmalloc(f->len + 1);
	if (hlen > 0)
		memcpy(f->raw, hdr, hlen);
	if (tlen > 0)
		memcpy(f->raw + hlen, text, tlen);
	f->raw[f->len] = '\0';
	if (size > f->len)
		f->truncated = 1;
}

/* Progress callback: needed for libetpan to use the msg_att handler. */
static void
imap_fetch_progress(size_t current, size_t maximum, void *arg)
{
}

/* qsort comparison for fetched messages, by UID. */
static int
imap_fetched_cmp(const void *a, const void *b)
{
	const struct imap_fetched	*x = a, *y = b;

	return (x->uid < y->uid ? -1 : x->uid > y->uid);
}

/* One UID FETCH: headers, INTERNALDATE, size, FLAGS and capped text. */
int
imap_fetch(struct imap *im, const uint32_t *uids, size_t n,
    struct imap_fetched **out, size_t *nout, char **cause)
{
	struct imap_fetch_ctx		 ctx;
	struct mailimap_fetch_type	*ft;
	struct mailimap_set		*set;
	struct mailimap_fetch_att	*fa;
	clist				*list = NULL;
	uint32_t			*want;
	size_t				 text_max;
	int				 r;

	*out = NULL;
	*nout = 0;
	if (!imap_usable(im, cause))
		return (-1);
	want = xcalloc(n + 1, sizeof *want);
	if (n > 0)
		memcpy(want, uids, n * sizeof *want);
	if ((n = imap_uid_sort(want, n)) == 0) {
		free(want);
		return (0);
	}
	text_max = im->fetch_max;

	memset(&ctx, 0, sizeof ctx);
	ctx.want = want;
	ctx.nwant = n;
	ctx.seen = xcalloc(n, 1);

	if ((ft = mailimap_fetch_type_new_fetch_att_list_empty()) == NULL)
		fatalx("mailimap_fetch_type_new: out of memory");
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_internaldate());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_rfc822_size());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_flags());
	fa = mailimap_fetch_att_new_body_peek_section_partial(
	    mailimap_section_new_header(), 0, IMAP_HEADER_MAX);
	mailimap_fetch_type_new_fetch_att_list_add(ft, fa);
	fa = mailimap_fetch_att_new_body_peek_section_partial(
	    mailimap_section_new_text(), 0, (uint32_t)text_max);
	mailimap_fetch_type_new_fetch_att_list_add(ft, fa);
	set = imap_uid_set(want, n);

	mailimap_set_msg_att_handler(im->m, imap_fetch_handler, &ctx);
	mailimap_set_progress_callback(im->m, imap_fetch_progress,
	    imap_fetch_progress, &ctx);
	r = mailimap_uid_fetch(im->m, set, ft, &list);
	mailimap_set_msg_att_handler(im->m, NULL, NULL);
	mailimap_set_progress_callback(im->m, NULL, NULL, NULL);
	if (list != NULL)
		mailimap_fetch_list_free(list);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	free(ctx.seen);
	free(want);

	if (r != MAILIMAP_NO_ERROR) {
		imap_fetched_free(ctx.out, ctx.n);
		return (imap_fail(im, r, "UID FETCH", cause));
	}
	if (ctx.n > 1)
		qsort(ctx.out, ctx.n, sizeof *ctx.out, imap_fetched_cmp);
	*out = ctx.out;
	*nout = ctx.n;
	return (0);
}

/* Free what imap_fetch returned. */
void
imap_fetched_free(struct imap_fetched *f, size_t n)
{
	size_t	i;

	if (f == NULL)
		return;
	for (i = 0; i < n; i++)
		free(f[i].raw);
	free(f);
}

/* One UID STORE +FLAGS.SILENT (keyword) for all the UIDs. */
int
imap_add_keyword(struct imap *im, const uint32_t *uids, size_t n,
    const char *keyword, char **cause)
{
	struct mailimap_flag_list	*fl;
	struct mailimap_store_att_flags	*sa;
	struct mailimap_set		*set;
	char				*what;
	int				 r, flagged;

	/* \Flagged is the one system flag: the therapist's urgent mark. */
	flagged = strcmp(keyword, "\\Flagged") == 0;
	if (!flagged && !imap_keyword_ok(keyword)) {
		*cause = xstrdup("imap: a keyword may only hold atom "
		    "characters");
		return (-1);
	}
	if (!imap_usable(im, cause))
		return (-1);
	if ((set = imap_sorted_set(uids, n)) == NULL)
		return (0);
	if ((fl = mailimap_flag_list_new_empty()) == NULL)
		fatalx("mailimap_flag_list_new_empty: out of memory");
	if (mailimap_flag_list_add(fl, flagged ? mailimap_flag_new_flagged() :
	    mailimap_flag_new_flag_keyword(xstrdup(keyword))) !=
	    MAILIMAP_NO_ERROR)
		fatalx("mailimap_flag_list_add: out of memory");
	if ((sa = mailimap_store_att_flags_new_add_flags_silent(fl)) == NULL)
		fatalx("mailimap_store_att_flags_new: out of memory");
	r = mailimap_uid_store(im->m, set, sa);
	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		what = xasprintf("UID STORE +FLAGS %s", keyword);
		imap_fail(im, r, what, cause);
		free(what);
		return (-1);
	}
	return (0);
}

/* One UID STORE -FLAGS.SILENT (keywords) for all the UIDs. */
int
imap_remove_keywords(struct imap *im, const uint32_t *uids, size_t n,
    const char *const *keywords, size_t nkw, char **cause)
{
	struct mailimap_flag_list	*fl;
	struct mailimap_store_att_flags	*sa;
	struct mailimap_set		*set;
	size_t				 i;
	int				 r;

	for (i = 0; i < nkw; i++)
		if (!imap_keyword_ok(keywords[i])) {
			*cause = xstrdup("imap: a keyword may only hold atom "
			    "characters");
			return (-1);
		}
	if (nkw == 0)
		return (0);
	if (!imap_usable(im, cause))
		return (-1);
	if ((set = imap_sorted_set(uids, n)) == NULL)
		return (0);
	if ((fl = mailimap_flag_list_new_empty()) == NULL)
		fatalx("mailimap_flag_list_new_empty: out of memory");
	for (i = 0; i < nkw; i++)
		if (mailimap_flag_list_add(fl, mailimap_flag_new_flag_keyword(
		    xstrdup(keywords[i]))) != MAILIMAP_NO_ERROR)
			fatalx("mailimap_flag_list_add: out of memory");
	if ((sa = mailimap_store_att_flags_new_remove_flags_silent(fl)) ==
	    NULL)
		fatalx("mailimap_store_att_flags_new: out of memory");
	r = mailimap_uid_store(im->m, set, sa);
	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_fail(im, r, "UID STORE -FLAGS", cause));
	return (0);
}

/* Is flag (as libetpan parsed it, with or without "\") \Sent? */
static int
imap_flag_is_sent(const char *flag)
{
	if (flag == NULL)
		return (0);
	if (*flag == '\\')
		flag++;
	return (strcasecmp(flag, "Sent") == 0);
}

/*
 * Find the \Sent special-use mailbox with LIST (XLIST where offered);
 * remembers it for the session. Falls back to "Sent". Returns the
 * (already encoded) name owned by im, or NULL on a broken session.
 */
static const char *
imap_find_sent(struct imap *im, char **cause)
{
	struct mailimap_mailbox_list	*mb;
	struct mailimap_mbx_list_oflag	*of;
	clist				*list = NULL;
	clistiter			*it, *jt;
	int				 r;

	if (im->sent != NULL)
		return (im->sent);
	if (mailimap_has_xlist(im->m))
		r = mailimap_xlist(im->m, "", "*", &list);
	else
		r = mailimap_list(im->m, "", "*", &list);
	if (r != MAILIMAP_NO_ERROR) {
		if (imap_fatal_error(r)) {
			imap_fail(im, r, "LIST", cause);
			return (NULL);
		}
		list = NULL;
	}
	for (it = list != NULL ? clist_begin(list) : NULL;
	    it != NULL && im->sent == NULL; it = clist_next(it)) {
		mb = clist_content(it);
		if (mb == NULL || mb->mb_name == NULL ||
		    !imap_safe(mb->mb_name) || mb->mb_flag == NULL ||
		    mb->mb_flag->mbf_oflags == NULL)
			continue;
		for (jt = clist_begin(mb->mb_flag->mbf_oflags); jt != NULL;
		    jt = clist_next(jt)) {
			of = clist_content(jt);
			if (of != NULL &&
			    of->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT &&
			    imap_flag_is_sent(of->of_flag_ext)) {
				im->sent = xstrdup(mb->mb_name);
				break;
			}
		}
	}
	if (list != NULL)
		mailimap_list_result_free(list);
	if (im->sent == NULL)
		im->sent = xstrdup("Sent");
	log_debug("imap: %s: sent folder is %s", im->host, im->sent);
	return (im->sent);
}

/* APPEND a copy of a reply, \Seen, to mailbox or the \Sent folder. */
int
imap_append_sent(struct imap *im, const char *mailbox, const char *data,
    size_t len, char **cause)
{
	struct mailimap_flag_list	*fl;
	const char			*name;
	char				*enc = NULL, *what;
	int				 r;

	if (!imap_usable(im, cause))
		return (-1);
	if (data == NULL || memchr(data, '\0', len) != NULL) {
		*cause = xstrdup("imap: cannot APPEND a message with NUL");
		return (-1);
	}
	if (mailbox != NULL && *mailbox != '\0') {
		if ((enc = imap_mutf7(mailbox, cause)) == NULL)
			return (-1);
		name = enc;
	} else if ((name = imap_find_sent(im, cause)) == NULL)
		return (-1);

	if ((fl = mailimap_flag_list_new_empty()) == NULL)
		fatalx("mailimap_flag_list_new_empty: out of memory");
	if (mailimap_flag_list_add(fl, mailimap_flag_new_seen()) !=
	    MAILIMAP_NO_ERROR)
		fatalx("mailimap_flag_list_add: out of memory");
	r = mailimap_append(im->m, name, fl, NULL, data, len);
	if (r == MAILIMAP_ERROR_APPEND && im->m->imap_response_info != NULL &&
	    im->m->imap_response_info->rsp_trycreate) {
		/* [TRYCREATE]: the folder is missing; make it, once. */
		if (mailimap_create(im->m, name) == MAILIMAP_NO_ERROR)
			r = mailimap_append(im->m, name, fl, NULL, data, len);
	}
	mailimap_flag_list_free(fl);
	if (r != MAILIMAP_NO_ERROR) {
		what = xasprintf("APPEND %s", mailbox != NULL &&
		    *mailbox != '\0' ? mailbox : name);
		imap_fail(im, r, what, cause);
		free(what);
		free(enc);
		return (-1);
	}
	free(enc);
	return (0);
}

/* The signals the daemon acts on; unblocked only inside the wait. */
static void
imap_wait_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

/*
 * Sleep until deadline or a signal, then NOOP: polling for servers
 * without IDLE. Returns 1 (there may be new mail), 0 on a signal.
 */
static int
imap_wait_noop(struct imap *im, time_t deadline, const sigset_t *orig,
    char **cause)
{
	struct timespec	ts;
	time_t		now;
	int		r;

	for (;;) {
		now = time(NULL);
		if (now >= deadline)
			break;
		ts.tv_sec = deadline - now;
		ts.tv_nsec = 0;
		if (ppoll(NULL, 0, &ts, orig) == -1 && errno == EINTR)
			return (0);
	}
	if ((r = mailimap_noop(im->m)) != MAILIMAP_NO_ERROR)
		return (imap_fail(im, r, "NOOP", cause));
	return (1);
}

/*
 * IDLE until deadline, new mail (EXISTS) or a signal; re-IDLE when the
 * server only said something else ("* OK Still here"). Returns 1, 0, -1.
 */
static int
imap_wait_idle(struct imap *im, time_t deadline, const sigset_t *orig,
    char **cause)
{
	struct mailimap_selection_info	*si = im->m->imap_selection_info;
	struct pollfd			 pfd;
	struct timespec			 ts;
	time_t				 now, chunk;
	int				 r, pr, interrupted = 0;

	for (;;) {
		now = time(NULL);
		if (now >= deadline)
			return (0);
		chunk = deadline - now;
		if (chunk > IMAP_IDLE_MAX)
			chunk = IMAP_IDLE_MAX;
		if (si != NULL)
			si->sel_has_exists = 0;
		if ((r = mailimap_idle(im->m)) != MAILIMAP_NO_ERROR)
			return (imap_fail(im, r, "IDLE", cause));
		/* libetpan may already hold the server's data (1.8). */
		if (im->m->imap_stream->read_buffer_len == 0) {
			pfd.fd = mailimap_idle_get_fd(im->m);
			pfd.events = POLLIN;
			pfd.revents = 0;
			ts.tv_sec = chunk;
			ts.tv_nsec = 0;
			pr = ppoll(&pfd, 1, &ts, orig);
			if (pr == -1 && errno == EINTR)
				interrupted = 1;
			else if (pr == -1) {
				*cause = xasprintf("imap: %s: poll: %s",
				    im->host, strerror(errno));
				im->dead = 1;
				return (-1);
			}
		}
		imap_set_timeout(im, IMAP_CHECK_TIMEOUT);
		r = mailimap_idle_done(im->m);
		imap_set_timeout(im, im->timeout);
		if (r != MAILIMAP_NO_ERROR)
			return (imap_fail(im, r, "IDLE DONE (no answer within "
			    "10 s: the server stopped responding)", cause));
		si = im->m->imap_selection_info;
		if (si != NULL && si->sel_has_exists) {
			si->sel_has_exists = 0;
			return (1);
		}
		if (interrupted)
			return (0);
	}
}

/* Wait for new mail with IDLE (or sleep and NOOP); see imap.h. */
int
imap_wait(struct imap *im, unsigned timeout, char **cause)
{
	struct mailimap_selection_info	*si;
	sigset_t			 block, orig, wait;
	time_t				 deadline;
	int				 r;

	if (!imap_usable(im, cause))
		return (-1);
	/* EXISTS arrived during the last pass: look again at once. */
	si = im->m->imap_selection_info;
	if (si != NULL && si->sel_has_exists) {
		si->sel_has_exists = 0;
		return (1);
	}
	deadline = time(NULL) + (timeout > 0 ? timeout : IMAP_IDLE_MAX);
	/*
	 * Keep the daemon's signals blocked except inside ppoll (whatever
	 * the mask was before), so one that arrives while IDLE is being set
	 * up still ends the wait and none interrupts a read or a write.
	 */
	imap_wait_signals(&block);
	sigprocmask(SIG_BLOCK, &block, &orig);
	wait = orig;
	sigdelset(&wait, SIGHUP);
	sigdelset(&wait, SIGINT);
	sigdelset(&wait, SIGTERM);
	if (mailimap_has_idle(im->m))
		r = imap_wait_idle(im, deadline, &wait, cause);
	else
		r = imap_wait_noop(im, deadline, &wait, cause);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return (r);
}

#define IMAP_SENT_VERIFY	10	/* newest SEARCH hits checked exactly */

/*
 * Is addr one of the recipients in the fetched To/Cc header block hdr?
 * SEARCH TO matches substrings (ann@ in joann@), so hits are checked.
 */
static int
imap_sent_names(const char *hdr, size_t len, const char *addr)
{
	struct msg	*m;
	size_t		 i;
	int		 found = 0;

	m = mime_parse(hdr, len, NULL);
	for (i = 0; i < m->nto && !found; i++)
		found = strcasecmp(m->to[i].addr, addr) == 0;
	msg_free(m);
	return (found);
}

/*
 * EXAMINE the Sent folder: sent_folder, or the \Sent special-use mailbox.
 * It stays selected (read-only) until the caller selects its own mailbox
 * again. 0, or -1 with *cause.
 */
static int
imap_examine_sent(struct imap *im, const char *sent_folder, char **cause)
{
	const char	*name;
	char		*enc = NULL, *what;
	int		 r;

	if (sent_folder != NULL && *sent_folder != '\0') {
		if ((enc = imap_mutf7(sent_folder, cause)) == NULL)
			return (-1);
		name = enc;
	} else if ((name = imap_find_sent(im, cause)) == NULL)
		return (-1);
	r = mailimap_examine(im->m, name);
	if (r != MAILIMAP_NO_ERROR) {
		what = xasprintf("EXAMINE %s", name);
		imap_fail(im, r, what, cause);
		free(what);
		free(enc);
		return (-1);
	}
	free(enc);
	return (0);
}

/*
 * Has the practice answered the message with this Message-ID already, by
 * hand or through a triaged that lost its state? UID SEARCH HEADER
 * In-Reply-To in the Sent folder, which stays selected (read-only): the
 * caller selects its own mailbox again. 1, 0, or -1 with *cause.
 */
int
imap_sent_has_reply(struct imap *im, const char *sent_folder,
    const char *message_id, char **cause)
{
	struct mailimap_search_key	*key;
	clist				*list = NULL;
	int				 r, found;

	if (message_id == NULL || strlen(message_id) > 998 ||
	    strpbrk(message_id, "\r\n\"\\") != NULL) {
		*cause = xstrdup("imap: refusing to search for an unsafe "
		    "Message-ID");
		return (-1);
	}
	if (!imap_usable(im, cause) ||
	    imap_examine_sent(im, sent_folder, cause) == -1)
		return (-1);
	if ((key = mailimap_search_key_new_header(xstrdup("In-Reply-To"),
	    xstrdup(message_id))) == NULL)
		fatalx("mailimap_search_key_new_header: out of memory");
	r = mailimap_uid_search(im->m, NULL, key, &list);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_fail(im, r, "UID SEARCH HEADER", cause));
	found = clist_count(list) > 0;
	mailimap_search_result_free(list);
	return (found);
}

/*
 * Has the practice written to addr? EXAMINE the Sent folder (sent_folder,
 * or the \Sent special-use mailbox), UID SEARCH TO addr, and check the
 * newest hits' To and Cc for the exact address. The Sent folder stays
 * selected (read-only): the caller selects its own mailbox again. addr
 * must be a valid addr-spec without quotes or backslashes (LIBRARIES.md
 * TL;DR #2). Returns 1, 0, or -1 with *cause set.
 */
int
imap_sent_has_recipient(struct imap *im, const char *sent_folder,
    const char *addr, char **cause)
{
	struct mailimap_search_key		*key;
	struct mailimap_fetch_type		*ft;
	struct mailimap_set			*set;
	struct mailimap_msg_att			*att;
	struct mailimap_msg_att_item		*item;
	struct mailimap_msg_att_static		*st;
	struct mailimap_msg_att_body_section	*bs;
	struct mailimap_header_list		*hl;
	clist					*list = NULL, *names;
	clistiter				*it, *jt;
	const char				*charset = NULL, *p;
	uint32_t				*uids, *u;
	size_t					 n = 0, from;
	int					 r, found = 0;

	if (addr == NULL || !mime_valid_address(addr) ||
	    strpbrk(addr, "\r\n\"\\") != NULL) {
		*cause = xstrdup("imap: refusing to search for an unsafe "
		    "address");
		return (-1);
	}
	if (!imap_usable(im, cause))
		return (-1);
	for (p = addr; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			charset = "UTF-8";
	if (imap_examine_sent(im, sent_folder, cause) == -1)
		return (-1);
	if ((key = mailimap_search_key_new_to(xstrdup(addr))) == NULL)
		fatalx("mailimap_search_key_new_to: out of memory");
	r = mailimap_uid_search(im->m, charset, key, &list);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_fail(im, r, "UID SEARCH TO", cause));
	uids = xcalloc(clist_count(list) + 1, sizeof *uids);
	for (it = clist_begin(list); it != NULL; it = clist_next(it))
		if ((u = clist_content(it)) != NULL)
			uids[n++] = *u;
	mailimap_search_result_free(list);
	list = NULL;
	if ((n = imap_uid_sort(uids, n)) == 0) {
		free(uids);
		return (0);
	}

	/* BODY.PEEK[HEADER.FIELDS (TO CC)] of the newest hits. */
	from = n > IMAP_SENT_VERIFY ? n - IMAP_SENT_VERIFY : 0;
	set = imap_uid_set(uids + from, n - from);
	free(uids);
	if ((names = clist_new()) == NULL ||
	    clist_append(names, xstrdup("To")) != 0 ||
	    clist_append(names, xstrdup("Cc")) != 0 ||
	    (hl = mailimap_header_list_new(names)) == NULL)
		fatalx("mailimap_header_list_new: out of memory");
	if ((ft = mailimap_fetch_type_new_fetch_att(
	    mailimap_fetch_att_new_body_peek_section(
	    mailimap_section_new_header_fields(hl)))) == NULL)
		fatalx("mailimap_fetch_type_new: out of memory");
	r = mailimap_uid_fetch(im->m, set, ft, &list);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		if (list != NULL)
			mailimap_fetch_list_free(list);
		return (imap_fail(im, r, "UID FETCH", cause));
	}
	for (it = clist_begin(list); it != NULL && !found;
	    it = clist_next(it)) {
		if ((att = clist_content(it)) == NULL ||
		    att->att_list == NULL)
			continue;
		for (jt = clist_begin(att->att_list); jt != NULL && !found;
		    jt = clist_next(jt)) {
			item = clist_content(jt);
			if (item == NULL || item->att_type !=
			    MAILIMAP_MSG_ATT_ITEM_STATIC ||
			    (st = item->att_data.att_static) == NULL ||
			    st->att_type != MAILIMAP_MSG_ATT_BODY_SECTION ||
			    (bs = st->att_data.att_body_section) == NULL ||
			    bs->sec_body_part == NULL)
				continue;
			found = imap_sent_names(bs->sec_body_part,
			    bs->sec_length, addr);
		}
	}
	mailimap_fetch_list_free(list);
	return (found);
}

/*
 * Filing into folders ([queue] file_into). Folder names are given with
 * "/" between levels and in UTF-8; on the wire "/" becomes the server's
 * hierarchy delimiter (LIST "" "") and the name modified UTF-7.
 */

/* The server's hierarchy delimiter, asked once per session. */
static int
imap_delimiter(struct imap *im, char *delim, char **cause)
{
	struct mailimap_mailbox_list	*mb;
	clist				*list = NULL;
	int				 r;

	if (im->delim_known) {
		*delim = im->delim;
		return (0);
	}
	r = mailimap_list(im->m, "", "", &list);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_fail(im, r, "LIST \"\" \"\"", cause));
	im->delim = '/';
	if (list != NULL && clist_begin(list) != NULL &&
	    (mb = clist_content(clist_begin(list))) != NULL &&
	    mb->mb_delimiter != '\0' && mb->mb_delimiter != '\r' &&
	    mb->mb_delimiter != '\n')
		im->delim = mb->mb_delimiter;
	if (list != NULL)
		mailimap_list_result_free(list);
	im->delim_known = 1;
	*delim = im->delim;
	return (0);
}

/* A folder's name as the server spells it; caller frees. */
static char *
imap_folder_wire(struct imap *im, const char *folder, char **cause)
{
	char	*name, *p, delim = '/';

	if (imap_delimiter(im, &delim, cause) == -1)
		return (NULL);
	name = xstrdup(folder);
	/* A level that holds the delimiter itself would split in two. */
	if (delim != '/' && strchr(name, delim) != NULL) {
		*cause = xasprintf("imap: folder %s holds the server's "
		    "hierarchy delimiter '%c'", folder, delim);
		free(name);
		return (NULL);
	}
	for (p = name; *p != '\0'; p++)
		if (*p == '/')
			*p = delim;
	p = imap_mutf7(name, cause);
	free(name);
	return (p);
}

/* Can this server file without a plain EXPUNGE (MOVE or UIDPLUS)? */
int
imap_can_file(const struct imap *im)
{
	return (imap_alive(im) && (mailimap_has_extension(im->m, "MOVE") ||
	    mailimap_has_uidplus(im->m)));
}

/*
 * Create folder and its parents when missing, and subscribe to it, so a
 * mail client shows it. An existing folder is fine.
 */
int
imap_folder_ensure(struct imap *im, const char *folder, char **cause)
{
	clist	*list = NULL;
	char	*wire, *what;
	int	 r, exists;

	if (!imap_usable(im, cause))
		return (-1);
	if ((wire = imap_folder_wire(im, folder, cause)) == NULL)
		return (-1);
	r = mailimap_list(im->m, "", wire, &list);
	if (r != MAILIMAP_NO_ERROR) {
		free(wire);
		return (imap_fail(im, r, "LIST", cause));
	}
	exists = list != NULL && clist_count(list) > 0;
	if (list != NULL)
		mailimap_list_result_free(list);
	if (!exists && (r = mailimap_create(im->m, wire)) !=
	    MAILIMAP_NO_ERROR) {
		what = xasprintf("CREATE %s", folder);
		imap_fail(im, r, what, cause);
		free(what);
		free(wire);
		return (-1);
	}
	/* Subscribing is a courtesy: a refusal is not an error. */
	if ((r = mailimap_subscribe(im->m, wire)) != MAILIMAP_NO_ERROR) {
		if (imap_fatal_error(r)) {
			free(wire);
			return (imap_fail(im, r, "SUBSCRIBE", cause));
		}
		log_warnx("imap: %s: SUBSCRIBE %s refused", im->host, folder);
	}
	if (!exists)
		log_info("imap: %s: created folder %s", im->host, folder);
	free(wire);
	return (0);
}

/* The UIDs of a set, in its order, at most max; caller frees. */
static uint32_t *
imap_set_uids(const struct mailimap_set *set, size_t max, size_t *n)
{
	struct mailimap_set_item	*item;
	clistiter			*it;
	uint32_t			*u, x;

	u = xcalloc(max + 1, sizeof *u);
	*n = 0;
	if (set == NULL || set->set_list == NULL)
		return (u);
	for (it = clist_begin(set->set_list); it != NULL;
	    it = clist_next(it)) {
		if ((item = clist_content(it)) == NULL)
			continue;
		for (x = item->set_first; *n < max; x++) {
			u[(*n)++] = x;
			if (x == item->set_last || x == UINT32_MAX)
				break;
		}
	}
	return (u);
}

/*
 * Pair COPYUID's source and destination sets (RFC 4315: in the same
 * order) into map entries for the UIDs asked for. Sets that do not pair
 * leave the map empty: the caller then finds the copies itself.
 */
static void
imap_copyuid_map(const struct mailimap_set *src,
    const struct mailimap_set *dst, size_t max, struct imap_moved **map,
    size_t *nmap)
{
	uint32_t	*s, *d;
	size_t		 ns, nd, i;

	s = imap_set_uids(src, max, &ns);
	d = imap_set_uids(dst, max, &nd);
	if (ns == nd && ns > 0) {
		*map = xcalloc(ns, sizeof **map);
		for (i = 0; i < ns; i++) {
			(*map)[i].src = s[i];
			(*map)[i].dst = d[i];
		}
		*nmap = ns;
	}
	free(s);
	free(d);
}

/*
 * Move the UIDs of the selected mailbox into folder: UID MOVE (RFC 6851)
 * where offered, else UID COPY, after which the caller records the copy
 * and calls imap_expunge_uids. 1 moved, 0 copied only, -1 with *cause.
 */
int
imap_move_uids(struct imap *im, const uint32_t *uids, size_t n,
    const char *folder, uint32_t *uidvalidity, struct imap_moved **map,
    size_t *nmap, char **cause)
{
	struct mailimap_set	*set, *src = NULL, *dst = NULL;
	char			*wire, *what;
	int			 r, move, uidplus;

	*map = NULL;
	*nmap = 0;
	*uidvalidity = 0;
	if (!imap_usable(im, cause))
		return (-1);
	move = mailimap_has_extension(im->m, "MOVE");
	uidplus = mailimap_has_uidplus(im->m);
	if (!move && !uidplus) {
		*cause = xasprintf("imap: %s offers neither MOVE nor UIDPLUS: "
		    "messages cannot be moved without a plain EXPUNGE",
		    im->host);
		return (-1);
	}
	if ((set = imap_sorted_set(uids, n)) == NULL)
		return (move);
	if ((wire = imap_folder_wire(im, folder, cause)) == NULL) {
		mailimap_set_free(set);
		return (-1);
	}
	if (move && uidplus)
		r = mailimap_uidplus_uid_move(im->m, set, wire, uidvalidity,
		    &src, &dst);
	else if (move)
		r = mailimap_uid_move(im->m, set, wire);
	else
		r = mailimap_uidplus_uid_copy(im->m, set, wire, uidvalidity,
		    &src, &dst);
	mailimap_set_free(set);
	free(wire);
	if (r != MAILIMAP_NO_ERROR) {
		what = xasprintf("UID %s to %s", move ? "MOVE" : "COPY",
		    folder);
		imap_fail(im, r, what, cause);
		free(what);
		return (-1);
	}
	if (src != NULL && dst != NULL)
		imap_copyuid_map(src, dst, n, map, nmap);
	if (src != NULL)
		mailimap_set_free(src);
	if (dst != NULL)
		mailimap_set_free(dst);
	return (move);
}

/*
 * Remove exactly these UIDs from the selected mailbox: \Deleted, then UID
 * EXPUNGE of the same set (UIDPLUS). Never a plain EXPUNGE, which would
 * also remove what the therapist marked deleted.
 */
int
imap_expunge_uids(struct imap *im, const uint32_t *uids, size_t n,
    char **cause)
{
	struct mailimap_flag_list	*fl;
	struct mailimap_store_att_flags	*sa;
	struct mailimap_set		*set;
	int				 r;

	if (!imap_usable(im, cause))
		return (-1);
	if (!mailimap_has_uidplus(im->m)) {
		*cause = xasprintf("imap: %s lacks UIDPLUS: no UID EXPUNGE",
		    im->host);
		return (-1);
	}
	if ((set = imap_sorted_set(uids, n)) == NULL)
		return (0);
	if ((fl = mailimap_flag_list_new_empty()) == NULL ||
	    mailimap_flag_list_add(fl, mailimap_flag_new_deleted()) !=
	    MAILIMAP_NO_ERROR ||
	    (sa = mailimap_store_att_flags_new_add_flags_silent(fl)) == NULL)
		fatalx("imap_expunge_uids: out of memory");
	r = mailimap_uid_store(im->m, set, sa);
	mailimap_store_att_flags_free(sa);
	if (r == MAILIMAP_NO_ERROR)
		r = mailimap_uid_expunge(im->m, set);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_fail(im, r, "UID EXPUNGE", cause));
	return (0);
}

/* EXAMINE folder (read-only); it stays selected. */
static int
imap_examine_folder(struct imap *im, const char *folder, char **cause)
{
	char	*wire, *what;
	int	 r;

	if (!imap_usable(im, cause))
		return (-1);
	if ((wire = imap_folder_wire(im, folder, cause)) == NULL)
		return (-1);
	r = mailimap_examine(im->m, wire);
	free(wire);
	if (r != MAILIMAP_NO_ERROR) {
		what = xasprintf("EXAMINE %s", folder);
		imap_fail(im, r, what, cause);
		free(what);
		return (-1);
	}
	return (0);
}

/*
 * Is the message with this Message-ID in folder (a copy made before a
 * crash)? EXAMINE it, UID SEARCH HEADER Message-ID; *uid is the newest
 * hit. The folder stays selected. 1, 0, or -1 with *cause.
 */
int
imap_folder_find(struct imap *im, const char *folder, const char *message_id,
    uint32_t *uid, char **cause)
{
	uint32_t	*u = NULL;
	size_t		 n = 0;

	*uid = 0;
	if (message_id == NULL || *message_id == '\0' ||
	    strlen(message_id) > 998 ||
	    strpbrk(message_id, "\r\n\"\\") != NULL)
		return (0);
	if (imap_examine_folder(im, folder, cause) == -1)
		return (-1);
	if (imap_uid_search_key(im, mailimap_search_key_new_header(
	    xstrdup("Message-ID"), xstrdup(message_id)), 0, &u, &n,
	    cause) == -1)
		return (-1);
	if (n > 0)
		*uid = u[n - 1];
	free(u);
	return (n > 0);
}

/* imap_fetch_flags in folder, which stays selected (read-only). */
int
imap_folder_flags(struct imap *im, const char *folder, const uint32_t *uids,
    size_t n, struct imap_flags **out, size_t *nout, char **cause)
{
	*out = NULL;
	*nout = 0;
	if (imap_examine_folder(im, folder, cause) == -1)
		return (-1);
	return (imap_fetch_flags(im, uids, n, out, nout, cause));
}

/*
 * STATUS folder (MESSAGES UIDNEXT, and HIGHESTMODSEQ where the server
 * offers CONDSTORE): what changes when anything in it changes, so the
 * handled check can skip a quiet folder. sig->modseq is 0 without
 * CONDSTORE (the signature then says nothing of flags).
 */
int
imap_folder_status(struct imap *im, const char *folder, struct imap_sig *sig,
    char **cause)
{
	struct mailimap_status_att_list		*atts;
	struct mailimap_mailbox_data_status	*st = NULL;
	struct mailimap_status_info		*si;
	struct mailimap_condstore_status_info	*cs;
	clistiter				*it;
	char					*wire, *what;
	int					 r;

	memset(sig, 0, sizeof *sig);
	if (!imap_usable(im, cause))
		return (-1);
	if ((wire = imap_folder_wire(im, folder, cause)) == NULL)
		return (-1);
	if ((atts = mailimap_status_att_list_new_empty()) == NULL ||
	    mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES) !=
	    MAILIMAP_NO_ERROR ||
	    mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UIDNEXT) !=
	    MAILIMAP_NO_ERROR ||
	    (mailimap_has_extension(im->m, "CONDSTORE") &&
	    mailimap_status_att_list_add(atts,
	    MAILIMAP_STATUS_ATT_HIGHESTMODSEQ) != MAILIMAP_NO_ERROR))
		fatalx("imap_folder_status: out of memory");
	r = mailimap_status(im->m, wire, atts, &st);
	mailimap_status_att_list_free(atts);
	free(wire);
	if (r != MAILIMAP_NO_ERROR) {
		what = xasprintf("STATUS %s", folder);
		imap_fail(im, r, what, cause);
		free(what);
		return (-1);
	}
	for (it = st != NULL && st->st_info_list != NULL ?
	    clist_begin(st->st_info_list) : NULL; it != NULL;
	    it = clist_next(it)) {
		if ((si = clist_content(it)) == NULL)
			continue;
		if (si->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
			sig->messages = si->st_value;
		else if (si->st_att == MAILIMAP_STATUS_ATT_UIDNEXT)
			sig->uidnext = si->st_value;
		else if (si->st_ext_data != NULL &&
		    si->st_ext_data->ext_extension ==
		    &mailimap_extension_condstore &&
		    si->st_ext_data->ext_type ==
		    MAILIMAP_CONDSTORE_TYPE_STATUS_INFO &&
		    (cs = si->st_ext_data->ext_data) != NULL)
			sig->modseq = cs->cs_highestmodseq_value;
	}
	if (st != NULL)
		mailimap_mailbox_data_status_free(st);
	return (0);
}
