/* Unit tests for config.c: keys, defaults, paths, secrets, every error. */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#include "conf.h"
#include "xmalloc.h"

static char	tmpdir[] = "/tmp/triaged-test-conf.XXXXXX";

/* Write a file under tmpdir with mode; return its path (static). */
static const char *
put(const char *name, const char *text, mode_t mode)
{
	static char	 path[256];
	FILE		*fp;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
	return (path);
}

static const char *good =
    "; a comment\n"
    "[imap]\n"
    "host = imap.example.org\n"
    "user = hello@practice.example\n"
    "password_file = imap.secret\n"
    "\n"
    "[smtp]\n"
    "url = smtps://smtp.example.org:465\n"
    "user = hello@practice.example\n"
    "password_file = imap.secret\n"
    "from = Harbor Counseling <Hello@Practice.Example>\n"
    "\n"
    "[practice]\n"
    "name = Harbor Counseling\n"
    "phone = +1 555 0100\n"
    "booking_url = https://practice.example/book\n"
    "\n"
    "[triage]\n"
    "state = state.db\n"
    "reply_window = 2w\n"
    "addresses = info@practice.example,\n"
    "  office@practice.example\n";

/* Load text as triaged.conf; returns conf or NULL, diag filled. */
static struct conf *
load(const char *text, struct diag *d)
{
	const char	*path;

	put("imap.secret", "s3cret\nignored\n", 0600);
	path = put("triaged.conf", text, 0600);
	diag_init(d);
	return (conf_load(path, d));
}

/* Is there a diag item whose "loc msg" contains needle? */
static int
has_diag(const struct diag *d, const char *needle)
{
	char	line[1024];
	size_t	i;

	for (i = 0; i < d->n; i++) {
		snprintf(line, sizeof line, "%s%s", d->items[i].loc,
		    d->items[i].msg);
		if (strstr(line, needle) != NULL)
			return (1);
	}
	return (0);
}

static void
test_good_file(void **state)
{
	struct diag	 d;
	struct conf	*conf;
	char		 expect[300], *secret, *cause = NULL;

	conf = load(good, &d);
	assert_non_null(conf);
	assert_int_equal(d.nerrors, 0);
	assert_string_equal(conf->imap.host, "imap.example.org");
	assert_int_equal(conf->imap.port, 993);
	assert_int_equal(conf->imap.tls, CONF_TLS_IMPLICIT);
	assert_string_equal(conf->imap.mailbox, "INBOX");
	snprintf(expect, sizeof expect, "%s/imap.secret", tmpdir);
	assert_string_equal(conf->imap.secret.file, expect);
	snprintf(expect, sizeof expect, "%s/state.db", tmpdir);
	assert_string_equal(conf->triage.state, expect);
	snprintf(expect, sizeof expect, "%s/rules", tmpdir);
	assert_string_equal(conf->triage.rules, expect);
	assert_string_equal(conf->smtp.from_name, "Harbor Counseling");
	assert_string_equal(conf->smtp.from_addr, "Hello@Practice.Example");
	assert_string_equal(conf->smtp.envelope_from, "");
	assert_string_equal(conf_practice_get(conf, "phone"), "+1 555 0100");
	assert_null(conf_practice_get(conf, "fax"));
	/* Continuation lines extend the list; lowercased. */
	assert_int_equal(conf->triage.naddresses, 2);
	assert_true(conf_is_our_address(conf, "OFFICE@practice.example"));
	assert_false(conf_is_our_address(conf, "hello@practice.example"));
	assert_false(conf_is_our_address(conf, "xoffice@practice.example"));
	assert_int_equal(conf->triage.reply_window, 14 * 86400);
	assert_int_equal(conf->triage.reply_max_age, 3 * 86400);
	assert_int_equal(conf->triage.first_run, CONF_FIRST_RUN_TRIAGE);
	secret = conf_secret_read(&conf->imap.secret, &cause);
	assert_non_null(secret);
	assert_string_equal(secret, "s3cret");
	free(secret);
	conf_free(conf);
	diag_free(&d);
}

static void
test_default_addresses(void **state)
{
	struct diag	 d;
	struct conf	*conf;
	char		*text;

	/* Without addresses: the IMAP user and the SMTP from, deduplicated. */
	text = xstrdup(good);
	*strstr(text, "addresses") = '\0';
	conf = load(text, &d);
	assert_non_null(conf);
	assert_int_equal(conf->triage.naddresses, 1);
	assert_true(conf_is_our_address(conf, "hello@practice.example"));
	conf_free(conf);
	diag_free(&d);
	free(text);
}

static void
test_every_error_reported(void **state)
{
	struct diag	 d;
	struct conf	*conf;

	conf = load("[imap]\n"
	    "host = imap.example.org\n"
	    "tls = sometimes\n"
	    "colour = blue\n"
	    "host = twice.example.org\n"
	    "[smtp]\n"
	    "url = http://x\n"
	    "from = not an address\n"
	    "[triage]\n"
	    "reply_window = soon\n"
	    "first_run = maybe\n"
	    "[nonsense]\n"
	    "a = b\n", &d);
	assert_null(conf);
	assert_true(has_diag(&d, "triaged.conf:3: [imap] tls: \"sometimes\""));
	assert_true(has_diag(&d, "triaged.conf:4: unknown key \"colour\""));
	assert_true(has_diag(&d, "triaged.conf:5: [imap] host is set twice"));
	assert_true(has_diag(&d, "triaged.conf:7: [smtp] url must start"));
	assert_true(has_diag(&d, "triaged.conf:8: [smtp] from"));
	assert_true(has_diag(&d, "triaged.conf:10: [triage] reply_window"));
	assert_true(has_diag(&d, "triaged.conf:11: [triage] first_run"));
	assert_true(has_diag(&d, "triaged.conf:13: unknown section "
	    "[nonsense]"));
	assert_true(has_diag(&d, "[imap] user is required"));
	assert_true(has_diag(&d, "password_file, password_command or"));
	assert_true(d.nerrors >= 10);
	diag_free(&d);
}

/* One loopback test for check, IMAP and SMTP, by address, never a name. */
static void
test_host_is_loopback(void **state)
{
	static const struct {
		const char	*host;
		int		 loopback;
	} t[] = {
		{ NULL, 0 }, { "", 0 },
		{ "localhost", 1 }, { "LOCALHOST.", 1 },
		{ "127.0.0.1", 1 }, { "127.1.2.3", 1 },
		{ "::1", 1 }, { "[::1]", 1 }, { "::ffff:127.0.0.1", 1 },
		{ "127.evil.example", 0 }, { "127.0.0.1.evil.example", 0 },
		{ "128.0.0.1", 0 }, { "10.0.0.1", 0 }, { "::2", 0 },
		{ "[::1", 0 }, { "localhost.evil.example", 0 },
		{ "imap.example.org", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (conf_host_is_loopback(t[i].host) != t[i].loopback)
			fail_msg("%s: expected %d", t[i].host ? t[i].host :
			    "NULL", t[i].loopback);
	}
}

static void
test_tls_none_loopback_only(void **state)
{
	struct diag	 d;
	struct conf	*conf;
	char		*text;

	text = xasprintf("[imap]\ntls=none\nhost=127.0.0.1\n%s",
	    strstr(good, "user = "));
	conf = load(text, &d);
	assert_non_null(conf);
	assert_int_equal(conf->imap.port, 143);
	conf_free(conf);
	diag_free(&d);
	free(text);

	conf = load("[imap]\nhost = imap.example.org\ntls = none\n"
	    "user = u\npassword_command = echo x\n"
	    "[smtp]\nurl = smtp://127.0.0.1:25\nfrom = a@b.example\n", &d);
	assert_null(conf);
	assert_true(has_diag(&d, "triaged.conf:3: [imap] tls = none is only "
	    "allowed for a loopback host"));
	diag_free(&d);
}

static void
test_secret_file_mode(void **state)
{
	struct diag	 d;
	struct conf	*conf;
	char		*path, *cause = NULL;
	struct conf_secret s = { 0 };

	put("imap.secret", "x\n", 0600);
	path = xstrdup(put("triaged.conf", good, 0600));
	put("imap.secret", "x\n", 0644);
	diag_init(&d);
	conf = conf_load(path, &d);
	assert_null(conf);
	assert_true(has_diag(&d, "readable by group or others"));
	/* Named with the line of the password_file key. */
	assert_true(has_diag(&d, "triaged.conf:5: [imap] password_file"));
	diag_free(&d);
	free(path);

	s.file = xstrdup(put("other.secret", "pw\n", 0640));
	assert_null(conf_secret_read(&s, &cause));
	free(s.file);
	assert_non_null(strstr(cause, "readable by group or others"));
	free(cause);

	/* A symbolic link is refused, even to a private file. */
	put("real.secret", "pw\n", 0600);
	path = xasprintf("%s/link.secret", tmpdir);
	unlink(path);
	assert_int_equal(symlink("real.secret", path), 0);
	s.file = path;
	cause = NULL;
	assert_null(conf_secret_read(&s, &cause));
	assert_non_null(strstr(cause, "symbolic link"));
	free(cause);
	free(path);
	s.file = NULL;
}

/* [alerts]: defaults, and a bad address named at its line. */
static void
test_alerts(void **state)
{
	struct diag	 d;
	struct conf	*conf;
	char		*text;

	conf = load(good, &d);
	assert_non_null(conf);
	assert_null(conf->alerts.to);
	assert_int_equal(conf->alerts.after, 30 * 60);
	conf_free(conf);
	diag_free(&d);

	text = xasprintf("%s[alerts]\nto = admin@practice.example\n"
	    "after = 5m\n", good);
	conf = load(text, &d);
	assert_non_null(conf);
	assert_string_equal(conf->alerts.to, "admin@practice.example");
	assert_int_equal(conf->alerts.after, 300);
	conf_free(conf);
	diag_free(&d);
	free(text);

	text = xasprintf("%s[alerts]\nto = Admin <admin@practice.example>\n",
	    good);
	assert_null(load(text, &d));
	assert_true(has_diag(&d, "triaged.conf:24: [alerts] to"));
	diag_free(&d);
	free(text);
}

static void
test_secret_file_missing(void **state)
{
	struct diag	 d;
	struct conf	*conf;
	char		*text, *p;

	text = xstrdup(good);
	p = strstr(text, "password_file = imap.secret");
	memcpy(p, "password_file = nosuc.secret", 28);
	conf = load(text, &d);
	assert_null(conf);
	assert_true(has_diag(&d, "triaged.conf:5: [imap] password_file"));
	assert_true(has_diag(&d, "nosuc.secret: No such file"));
	diag_free(&d);
	free(text);
}

static void
test_secret_command(void **state)
{
	struct conf_secret	 s = { 0 };
	char			*secret, *cause = NULL;

	char			 ok[] = "printf 'tok3n\\n'", bad[] = "exit 3";

	s.command = ok;
	secret = conf_secret_read(&s, &cause);
	assert_non_null(secret);
	assert_string_equal(secret, "tok3n");
	free(secret);
	s.command = bad;
	assert_null(conf_secret_read(&s, &cause));
	assert_non_null(cause);
	free(cause);
}

/* A helper that waits for a prompt gets no terminal and a time limit. */
static void
test_secret_command_bounded(void **state)
{
	struct conf_secret	 s = { 0 };
	struct timespec		 t0, t1;
	char			*cause = NULL;
	char			 cat[] = "cat", hang[] = "sleep 60";

	/* stdin is /dev/null: cat ends at once with nothing. */
	s.command = cat;
	assert_null(conf_secret_read(&s, &cause));
	assert_string_equal(cause, "the secret is empty");
	free(cause);

	s.command = hang;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_null(conf_secret_read(&s, &cause));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(strstr(cause, "did not finish within"));
	assert_true(t1.tv_sec - t0.tv_sec < 30);
	free(cause);
}

static void
test_durations(void **state)
{
	static const struct { const char *in; time_t out; } t[] = {
		{ "", -1 }, { "d", -1 }, { "3", 3 }, { "45s", 45 },
		{ "30m", 1800 }, { "12h", 43200 }, { "3d", 259200 },
		{ "1w", 604800 }, { "3days", -1 }, { "-1d", -1 }, { "3x", -1 },
	};
	size_t	i;

	assert_int_equal(conf_parse_duration(NULL), -1);
	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		assert_int_equal(conf_parse_duration(t[i].in), t[i].out);
}

static void
test_long_line(void **state)
{
	struct diag	 d;
	struct conf	*conf;
	char		 text[1024];

	snprintf(text, sizeof text, "%s[practice]\nmotto = %0300d\n", good, 7);
	conf = load(text, &d);
	assert_null(conf);
	assert_true(has_diag(&d, "line too long"));
	diag_free(&d);
}

/* known_senders, skip_known, relays and retry_base: values and errors. */
static void
test_known_and_relays(void **state)
{
	struct diag	 d;
	struct conf	*conf;
	char		 text[2048], needle[300];

	put("known", "# existing clients\n"
	    "Ann@Client.Example\n"
	    "\n"
	    "  @Family.example   # the whole family\n"
	    "x#y@client.example\n", 0644);
	snprintf(text, sizeof text, "%s"
	    "known_senders = known\n"
	    "skip_known = sent\n"
	    "relays = noreply@*.psychologytoday.com, @forms.example\n"
	    "relays = Web-*@Directory.example\n"
	    "[smtp]\nretry_base = 2s\n", good);
	/* [smtp] appears twice: keys may come in any section order. */
	conf = load(text, &d);
	if (conf == NULL)
		diag_print(&d, stderr);
	assert_non_null(conf);
	assert_int_equal(conf->triage.nknown, 3);
	assert_int_equal(conf->triage.skip_known, CONF_SKIP_KNOWN_SENT);
	assert_int_equal(conf->smtp.retry_base, 2);
	assert_true(conf_is_known_sender(conf, "ann@client.example"));
	assert_true(conf_is_known_sender(conf, "ANN@CLIENT.EXAMPLE"));
	assert_true(conf_is_known_sender(conf, "dad@family.EXAMPLE"));
	assert_true(conf_is_known_sender(conf, "x#y@client.example"));
	assert_false(conf_is_known_sender(conf, "joann@client.example"));
	assert_false(conf_is_known_sender(conf, "dad@sub.family.example"));
	assert_false(conf_is_known_sender(conf, "family.example"));
	assert_false(conf_is_known_sender(conf, NULL));
	assert_int_equal(conf->triage.nrelays, 3);
	assert_true(conf_is_relay(conf,
	    "noreply@members.psychologytoday.com"));
	assert_true(conf_is_relay(conf, "NoReply@A.B.PsychologyToday.com"));
	assert_false(conf_is_relay(conf, "noreply@psychologytoday.com"));
	assert_false(conf_is_relay(conf, "noreply@psychologytoday.com.evil"));
	assert_true(conf_is_relay(conf, "anything@forms.example"));
	assert_false(conf_is_relay(conf, "anything@x.forms.example"));
	assert_true(conf_is_relay(conf, "web-42@directory.example"));
	assert_false(conf_is_relay(conf, "web@directory.example"));
	assert_false(conf_is_relay(conf, ""));
	assert_false(conf_is_relay(conf, NULL));
	conf_free(conf);
	diag_free(&d);

	/* Defaults: nobody known, no relays, retry after a minute. */
	conf = load(good, &d);
	assert_non_null(conf);
	assert_int_equal(conf->triage.nknown, 0);
	assert_int_equal(conf->triage.skip_known, CONF_SKIP_KNOWN_NO);
	assert_int_equal(conf->smtp.retry_base, 60);
	assert_false(conf_is_relay(conf, "noreply@x.example"));
	conf_free(conf);
	diag_free(&d);

	/* Every bad line at its own file:line, and bad values at theirs. */
	put("known", "ok@client.example\n"
	    "not an address\n"
	    "@nodot\n"
	    "a@b@c.example\n"
	    "<ann@client.example>\n"
	    "*@client.example\n"
	    "good@client.example # fine\n", 0644);
	snprintf(text, sizeof text, "%s"
	    "known_senders = known\n"
	    "skip_known = always\n"
	    "relays = ok@forms.example, no-at-sign, a b@c.example\n", good);
	conf = load(text, &d);
	assert_null(conf);
	snprintf(needle, sizeof needle, "%s/known:", tmpdir);
	assert_false(has_diag(&d, "known:1:"));
	assert_true(has_diag(&d, "known:2: \"not an address\""));
	assert_true(has_diag(&d, "known:3: "));
	assert_true(has_diag(&d, "known:4: "));
	assert_true(has_diag(&d, "known:5: "));
	assert_true(has_diag(&d, "known:6: "));
	assert_false(has_diag(&d, "known:7:"));
	assert_true(has_diag(&d, needle));
	assert_true(has_diag(&d, "triaged.conf:24: [triage] skip_known"));
	assert_true(has_diag(&d, "triaged.conf:25: [triage] relays: "
	    "\"no-at-sign\""));
	assert_true(has_diag(&d, "\"a b@c.example\""));
	assert_int_equal(d.nerrors, 8);
	diag_free(&d);

	/* A missing file is an error at the key's line. */
	snprintf(text, sizeof text, "%sknown_senders = nonexistent\n", good);
	conf = load(text, &d);
	assert_null(conf);
	assert_true(has_diag(&d, "triaged.conf:23: [triage] known_senders: "));
	assert_true(has_diag(&d, "No such file"));
	diag_free(&d);
}

static void
test_missing_file(void **state)
{
	struct diag	d;

	diag_init(&d);
	assert_null(conf_load("/nonexistent/triaged.conf", &d));
	assert_int_equal(d.nerrors, 1);
	assert_true(has_diag(&d, "/nonexistent/triaged.conf: No such file"));
	diag_free(&d);
}

static int
setup(void **state)
{
	return (mkdtemp(tmpdir) == NULL ? -1 : 0);
}

static int
teardown(void **state)
{
	char	cmd[300];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return (system(cmd));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_default_addresses),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_host_is_loopback),
		cmocka_unit_test(test_tls_none_loopback_only),
		cmocka_unit_test(test_secret_file_mode),
		cmocka_unit_test(test_secret_command),
		cmocka_unit_test(test_secret_command_bounded),
		cmocka_unit_test(test_secret_file_missing),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_known_and_relays),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
