/*
 * The scope a phrase is said in: is a match in a text asserted, or is it
 * denied ("I'm not having any thoughts of hurting myself") or put in the
 * past ("when I was 19 I made an attempt")? Rules mark a pattern
 * "asserted" to count only asserted matches (see triaged.rules(5)).
 */
#ifndef TRIAGED_SCOPE_H
#define TRIAGED_SCOPE_H

#include <stddef.h>

/* Is text[start..end) asserted: neither negated nor only in the past? */
int	scope_asserted(const char *text, size_t start, size_t end);

#endif
