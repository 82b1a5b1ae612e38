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
	 * NULL: a reply is allowed. Otherwise a static, stable reason:
	 * "no-return-path", "null-sender", "auto-submitted", "list",
	 * "precedence", "robot", "esp", "report", "x-auto-response-suppress",
	 * "autoreply", "own-address", "x-loop", "spam", "not-to-us",
	 * "bad-address", "relay-no-reply-to" (checked in that order; see
	 * guard.c).
	 */
	const char	*suppressed;
	/*
	 * Where a reply would go: the Return-Path addr-spec if it is valid,
	 * or for a relay the first valid Reply-To address (set even when
	 * suppressed), owned; NULL if none.
	 */
	char		*rcpt;
	/* The sender matched [triage] relays: rcpt is from Reply-To. */
	int		 relay;
};

/* Run every header check; fills result. */
void	guard_check(const struct conf *, const struct msg *,
	    struct guard_result *);
void	guard_result_free(struct guard_result *);

/*
 * Is the writer listed in [triage] known_senders (the reply address, and
 * for mail not sent by a relay the Return-Path and From)? 1 or 0.
 */
int	guard_known(const struct conf *, const struct msg *,
	    const struct guard_result *);

#endif
