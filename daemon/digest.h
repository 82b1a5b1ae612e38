/*
 * The daily digest ([digest] to, time): once a day, what arrived since the
 * last digest per category, the replies that failed, and the inquiries
 * still waiting for the therapist after [digest] unanswered_after (crisis
 * first, oldest first); senders and subjects only with include_details.
 * `triaged digest` sends it now; the daemon at [digest] time, and a
 * digest missed while the machine was off at its next start, once.
 */
#ifndef TRIAGED_DIGEST_H
#define TRIAGED_DIGEST_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "store.h"

/*
 * Is a digest due at now (its last scheduled time has passed since the
 * last digest)? The very first call only records now: a new machine
 * sends its first digest at the next scheduled time.
 */
int	digest_due(const struct conf *, struct store *, time_t now);
/* When the next digest is due (for the daemon's sleep). */
time_t	digest_next(const struct conf *, time_t now);
/* Compose and send it, and record it as sent. 0, or -1 with *cause. */
int	digest_send(const struct conf *, struct store *, time_t now,
	    char **cause);
/* The message (CRLF), from the state. NULL with *cause. Caller frees. */
char	*digest_compose(const struct conf *, struct store *, time_t since,
	    time_t now, size_t *lenp, char **cause);

#endif
