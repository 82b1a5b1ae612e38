/*
 * Reply templates: one file per template in the templates folder (header
 * block with at least Subject:, a blank line, the body), compiled at load
 * time, expanded without recursion into a complete RFC 5322 reply.
 */
#ifndef TRIAGED_TEMPLATE_H
#define TRIAGED_TEMPLATE_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "diag.h"
#include "mime.h"
#include "rules.h"

struct tmplset;

/*
 * Load every template file of dir (file name = template name; files
 * starting with '.' or ending in '~' are skipped). Placeholders are checked
 * against conf's [practice] keys. Errors go to diag as file:line: message.
 * Returns NULL if there was any error.
 */
struct tmplset	*tmpl_load(const char *dir, const struct conf *,
		    struct diag *);
void		 tmpl_free(struct tmplset *);
int		 tmpl_exists(const struct tmplset *, const char *name);

/* A composed reply, ready for SMTP: all strings owned by the struct. */
struct reply {
	char	*rcpt;		/* envelope recipient and To: address */
	char	*subject;	/* UTF-8, as shown in queue */
	char	*message_id;	/* "<...>" in the practice's domain */
	char	*data;		/* the whole message, CRLF line ends */
	size_t	 len;
};

/*
 * Compose the reply of template name to msg, sent to rcpt. seed makes the
 * Message-ID deterministic (the inbound Message-ID, or a stable stand-in).
 * From: is the [smtp] from display name with the first of [triage]
 * addresses the client wrote to (To, Cc, Bcc, Resent-*), else the [smtp]
 * from address; X-Loop: names that same address.
 * Returns 0, or -1 with *cause set (caller frees) when the template is
 * missing or the output exceeds its cap.
 */
int		 tmpl_compose(const struct tmplset *, const char *name,
		    const struct conf *, const struct msg *,
		    const struct verdict *, const char *rcpt,
		    const char *seed, time_t now, struct reply *,
		    char **cause);
void		 reply_free(struct reply *);

#endif
