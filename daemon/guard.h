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
	 * "precedence", "robot", "report", "x-auto-response-suppress",
	 * "autoreply", "own-address", "x-loop", "spam", "not-to-us",
	 * "bad-address" (checked in that order; see guard.c).
	 */
	const char	*suppressed;
	/*
	 * Where a reply would go: the Return-Path addr-spec if it is valid
	 * (set even when suppressed), owned; NULL if none.
	 */
	char		*rcpt;
};

/* Run every header check; fills result. */
void	guard_check(const struct conf *, const struct msg *,
	    struct guard_result *);
void	guard_result_free(struct guard_result *);

#endif
