/*
 * libFuzzer target for the rules parser: the input becomes the .rules
 * files of a private folder (split into two files at a line "%%", so that
 * declarations in one file and rules in another are exercised too), then
 * rules_load; when it loads, a fixed small message is classified and
 * explained. Nothing may crash, hang or leak.
 *
 * Build and run from the repository root (clang):
 *	mkdir -p obj-fuzz && clang -g -O1 \
 *	    -fsanitize=fuzzer,address,undefined \
 *	    -fno-sanitize-recover=undefined -std=c17 -D_GNU_SOURCE -Idaemon \
 *	    $(pkg-config --cflags libpcre2-8 libetpan) \
 *	    -o obj-fuzz/fuzz_rules tests/fuzz/fuzz_rules.c daemon/rules.c \
 *	    daemon/mime.c daemon/xmalloc.c daemon/buf.c daemon/log.c \
 *	    daemon/diag.c \
 *	    $(pkg-config --libs libpcre2-8 libetpan | sed 's,-specs=[^ ]*,,')
 *	mkdir -p obj-fuzz/corpus-rules && obj-fuzz/fuzz_rules \
 *	    -dict=tests/fuzz/rules.dict -max_total_time=600 \
 *	    obj-fuzz/corpus-rules tests/fuzz/seeds-rules
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "log.h"
#include "mime.h"
#include "rules.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char message[] =
    "Return-Path: <maya@client.example>\r\n"
    "From: Maya R <maya@client.example>\r\n"
    "To: hello@practice.example\r\n"
    "Subject: need to talk\r\n"
    "Date: Wed, 25 Nov 2026 08:12:00 -0500\r\n"
    "Message-ID: <fuzz-1@client.example>\r\n"
    "List-Id: <x.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "I don't want to be here anymore. My husband drinks every night\r\n"
    "and I keep covering for him. Caf\xc3\xa9, ni\xc3\xb1" "a, \xf0\x9f\x98\x9e.\r\n"
    "\r\n"
    "On Tue, Nov 24, 2026 at 9:14 AM Practice wrote:\r\n"
    "> If you are in crisis, call or text 988.\r\n";

static char		 dir[] = "/tmp/fuzz-rules.XXXXXX";
static char		*file_a, *file_b;
static struct msg	*msg;

/* Remove the private folder at exit. */
static void
cleanup(void)
{
	unlink(file_a);
	unlink(file_b);
	rmdir(dir);
	free(file_a);
	free(file_b);
	msg_free(msg);
}

/* Write len bytes to path, or remove path when data is NULL. */
static void
put(const char *path, const uint8_t *data, size_t len)
{
	FILE	*fp;

	if (data == NULL) {
		unlink(path);
		return;
	}
	if ((fp = fopen(path, "wb")) == NULL) {
		perror(path);
		abort();
	}
	if (len > 0 && fwrite(data, 1, len, fp) != len) {
		perror(path);
		abort();
	}
	if (fclose(fp) != 0) {
		perror(path);
		abort();
	}
}

/* Create the private folder and parse the fixed message, once. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mime_limits	lim;

	log_init(LOG_LEVEL_ERROR, 0);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	if (asprintf(&file_a, "%s/00-a.rules", dir) == -1 ||
	    asprintf(&file_b, "%s/10-b.rules", dir) == -1)
		abort();
	mime_limits_default(&lim);
	msg = mime_parse(message, sizeof message - 1, &lim);
	atexit(cleanup);
	return (0);
}

/* One input: one or two rules files, load, classify, explain, free. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const uint8_t	*sep = NULL, *p;
	struct diag	 d;
	struct ruleset	*rs;
	struct verdict	 v;
	struct buf	 out;
	size_t		 i;

	for (p = data; p + 4 <= data + len; p++)
		if (memcmp(p, "\n%%\n", 4) == 0) {
			sep = p;
			break;
		}
	if (sep != NULL) {
		put(file_a, data, sep - data + 1);
		put(file_b, sep + 4, data + len - (sep + 4));
	} else {
		put(file_a, data, len);
		put(file_b, NULL, 0);
	}

	diag_init(&d);
	rs = rules_load(dir, &d);
	/* Every diagnostic names a place and says something. */
	for (i = 0; i < d.n; i++)
		if (d.items[i].loc == NULL || d.items[i].msg == NULL ||
		    d.items[i].msg[0] == '\0')
			abort();
	if (rs != NULL) {
		if (d.nerrors != 0)
			abort();
		rules_classify(rs, msg, &v);
		if (v.category == NULL)
			abort();
		verdict_free(&v);
		buf_init(&out, 0);
		rules_explain(rs, msg, &out);
		buf_free(&out);
		for (i = 0; i < rules_ncategories(rs); i++)
			if (rules_category_name(rs, i) == NULL)
				abort();
		rules_free(rs);
	} else if (d.nerrors == 0)
		abort();
	diag_free(&d);
	/* libFuzzer does not always run atexit handlers: leave no files. */
	put(file_a, NULL, 0);
	put(file_b, NULL, 0);
	return (0);
}
