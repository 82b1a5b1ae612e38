/*
 * `triaged status`: one screen for whoever looks after the machine, read
 * from the state database without waiting for the daemon: whether the
 * daemon runs, the inbox connection and since when, the last pass, the
 * outbox, the last reply, the rules and templates in use and the alerts
 * open. Exit status 0 healthy, 1 degraded, 2 down.
 */
#ifndef TRIAGED_STATUS_H
#define TRIAGED_STATUS_H

#include "pipeline.h"

#define STATUS_HEALTHY	0
#define STATUS_DEGRADED	1
#define STATUS_DOWN	2

/* Print the status (text or JSON) of p's state; the exit status. */
int	status_show(struct pipeline *p, int json);

#endif
