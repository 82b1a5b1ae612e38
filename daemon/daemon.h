/* The run loop: passes over new mail, IMAP IDLE between, SIGHUP reload. */
#ifndef TRIAGED_DAEMON_H
#define TRIAGED_DAEMON_H

#include "pipeline.h"

/* Run until SIGTERM or SIGINT; returns an exit code. */
int	daemon_run(struct pipeline *);

#endif
