/*
 * Guard: may we auto-reply to this message at all? RFC 3834 / RFC 5230
 * checks on the headers alone (lists, bulk, auto-submitted, bounces,
 * robots, our own address, not addressed to us). The checks that need
 * state (reply window, age, rate) are done by the pipeline with the store.
 */
#ifndef TRIAGED_GUARD_H
#define TRIAGED_GUARD_H

#include "conf.h"
#include "mime.h"

struct guard_result {
	/*
	 * NULL: a reply is allowed. Otherwise a static, stable reason such
	 * as "auto-submitted", "list-id", "precedence", "null-sender",
	 * "no-return-path", "mailer-daemon", "robot", "report", "own-address",
	 * "x-loop", "not-to-us", "bad-address".
	 */
	const char	*suppressed;
	/* Where the reply goes (validated addr-spec), owned; NULL if none. */
	char		*rcpt;
};

/* Run every header check; fills result. */
void	guard_check(const struct conf *, const struct msg *,
	    struct guard_result *);
void	guard_result_free(struct guard_result *);

#endif
