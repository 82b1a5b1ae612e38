/*
 * libFuzzer target for the whole MIME parse path: mime_parse with the
 * default limits, then the address check and the header sanitiser on
 * what it produced, then msg_free. Any crash, sanitizer report or leak
 * is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One input: parse it and touch every field a rule or reply reads. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_limits	 lim;
	struct msg		*m;
	struct msg_addr		*list;
	const char		*v;
	char			*s;
	size_t			 n;

	mime_limits_default(&lim);
	m = mime_parse((const char *)data, size, &lim);
	(void)mime_valid_address(m->from.addr);
	s = mime_header_safe(m->subject);
	free(s);
	if ((v = msg_header(m, "Cc")) != NULL) {
		n = mime_address_list(v, &list);
		msg_addrs_free(list, n);
	}
	/* Reading every byte lets ASan see any unterminated field. */
	(void)strlen(m->body);
	(void)strlen(m->quoted);
	(void)strlen(m->from_text);
	(void)strlen(m->to_text);
	msg_free(m);
	return (0);
}
