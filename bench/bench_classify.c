/*
 * bench_classify: the per-message cost of the parse and classify stages,
 * reported as ratios against a baseline measured in the same run (a copy
 * of the same bytes), so the figures compare across machines.
 *
 * usage: bench_classify RULES_DIR ITERATIONS FILE.eml...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "diag.h"
#include "log.h"
#include "mime.h"
#include "rules.h"
#include "xmalloc.h"

struct input {
	char	*data;
	size_t	 len;
};

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Read a whole file. */
static int
slurp(const char *path, struct input *in)
{
	struct buf	 b;
	FILE		*fp;
	char		 chunk[8192];
	size_t		 n;

	if ((fp = fopen(path, "rb")) == NULL)
		return (-1);
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	in->data = buf_detach(&b, &in->len);
	return (0);
}

int
main(int argc, char **argv)
{
	struct diag		 d;
	struct ruleset		*rs;
	struct mime_limits	 lim;
	struct input		*in;
	struct verdict		 v;
	struct msg		*m;
	volatile size_t		 sink = 0;
	double			 t0, base, parse, classify;
	char			*copy;
	long			 iter, k;
	int			 i, n;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_classify RULES ITERATIONS "
		    "FILE...\n");
		return (64);
	}
	log_init(LOG_LEVEL_ERROR, 0);
	diag_init(&d);
	if ((rs = rules_load(argv[1], &d)) == NULL) {
		diag_print(&d, stderr);
		return (78);
	}
	diag_free(&d);
	iter = strtol(argv[2], NULL, 10);
	n = argc - 3;
	in = xcalloc(n, sizeof *in);
	for (i = 0; i < n; i++)
		if (slurp(argv[3 + i], &in[i]) == -1)
			return (66);
	mime_limits_default(&lim);

	/* Baseline: copying each message once, which every stage does. */
	t0 = now();
	for (k = 0; k < iter; k++) {
		for (i = 0; i < n; i++) {
			copy = xmalloc(in[i].len + 1);
			memcpy(copy, in[i].data, in[i].len);
			sink += copy[in[i].len / 2];
			free(copy);
		}
	}
	base = now() - t0;

	t0 = now();
	for (k = 0; k < iter; k++)
		for (i = 0; i < n; i++) {
			m = mime_parse(in[i].data, in[i].len, &lim);
			sink += strlen(m->body);
			msg_free(m);
		}
	parse = now() - t0;

	t0 = now();
	for (k = 0; k < iter; k++)
		for (i = 0; i < n; i++) {
			m = mime_parse(in[i].data, in[i].len, &lim);
			rules_classify(rs, m, &v);
			sink += v.ntags;
			verdict_free(&v);
			msg_free(m);
		}
	classify = now() - t0;

	printf("messages:        %d x %ld\n", n, iter);
	printf("baseline copy:   %.3f us/message\n", base * 1e6 / (n * iter));
	printf("parse:           %.1f us/message (%.0fx baseline)\n",
	    parse * 1e6 / (n * iter), parse / (base > 0 ? base : 1e-9));
	printf("parse+classify:  %.1f us/message (%.0fx baseline, "
	    "classify %.2fx parse)\n", classify * 1e6 / (n * iter),
	    classify / (base > 0 ? base : 1e-9),
	    classify / (parse > 0 ? parse : 1e-9));
	for (i = 0; i < n; i++)
		free(in[i].data);
	free(in);
	rules_free(rs);
	return (sink == (size_t)-1);
}
