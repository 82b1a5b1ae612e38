/*
 * store: position, record (one transaction, idempotent), outbox states,
 * reply window, IMAP keyword bookkeeping, queue order, durability across
 * reopen and a killed writer, and the 0600 file mode.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

#include "store.h"
#include "xmalloc.h"

struct fixture {
	char		 dir[64];
	char		*path;
	struct store	*s;
};

/* Fresh temporary folder and an open store in it. */
static int
setup(void **state)
{
	struct fixture	*f;
	char		*cause = NULL;

	f = xcalloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	f->path = xasprintf("%s/state.db", f->dir);
	if ((f->s = store_open(f->path, &cause)) == NULL) {
		fprintf(stderr, "store_open: %s\n", cause);
		free(cause);
		return (-1);
	}
	*state = f;
	return (0);
}

/* Close and remove the folder. */
static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		*cmd;

	store_close(&f->s);
	cmd = xasprintf("rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed: %s\n", f->dir);
	free(cmd);
	free(f->path);
	free(f);
	return (0);
}

/* Reopen the store, as a restart would. */
static void
reopen(struct fixture *f)
{
	char	*cause = NULL;

	store_close(&f->s);
	assert_null(f->s);
	f->s = store_open(f->path, &cause);
	if (f->s == NULL)
		fail_msg("reopen: %s", cause);
}

/* An entry with defaults the tests change as needed. */
static struct store_entry
entry(uint32_t uid, const char *category, int priority, time_t received)
{
	struct store_entry	e;

	memset(&e, 0, sizeof e);
	e.mailbox = "INBOX";
	e.uidvalidity = 7;
	e.uid = uid;
	e.received = received;
	e.message_id = "<m@example.org>";
	e.sender = "Client@Example.org";
	e.subject = "Anfrage";
	e.category = category;
	e.priority = priority;
	e.tags = "";
	e.rules = "";
	e.status = STORE_SUPPRESSED;
	return (e);
}

/* A reply to queue with an entry. */
static struct store_outgoing
outgoing(const char *rcpt, const char *template)
{
	struct store_outgoing	o;

	memset(&o, 0, sizeof o);
	o.rcpt = rcpt;
	o.envelope_from = "";
	o.template = template;
	o.subject = "Auto: Anfrage";
	o.message_id = "<r@practice.example>";
	o.data = "Subject: x\r\n\r\nhello\r\n";
	o.len = strlen(o.data);
	return (o);
}

/* Record or fail the test. */
static void
record(struct fixture *f, const struct store_entry *e,
    const struct store_outgoing *o)
{
	char	*cause = NULL;

	if (store_record(f->s, e, o, &cause) != 0)
		fail_msg("store_record: %s", cause);
}

/* Replies accepted since a time (the hourly cap), or fail. */
static long
sent_since(struct fixture *f, time_t since)
{
	long	count = -1;
	time_t	oldest;

	assert_int_equal(store_sent_since(f->s, since, &count, &oldest), 0);
	return (count);
}

/* A pending reply with its row id, for the claim tests. */
static int64_t
one_pending(struct fixture *f, uint32_t uid, const char *rcpt)
{
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_pending	*p;
	size_t			 n;
	int64_t			 id;

	e = entry(uid, "individual", 1, 1000);
	o = outgoing(rcpt, "individual");
	record(f, &e, &o);
	assert_int_equal(store_pending(f->s, 2000, &p, &n), 0);
	assert_true(n >= 1);
	id = p[n - 1].id;
	store_pending_free(p, n);
	return (id);
}

/* Number of due rows at a time. */
static size_t
due_count(struct fixture *f, time_t now)
{
	struct store_pending	*p;
	size_t			 n;

	assert_int_equal(store_pending(f->s, now, &p, &n), 0);
	store_pending_free(p, n);
	return (n);
}

/* Number of queue rows matching the filters. */
static size_t
queue_count(struct fixture *f, const char *category, const char *status)
{
	struct store_row	*r;
	size_t			 n;

	assert_int_equal(store_queue(f->s, category, status, 0, &r, &n), 0);
	store_rows_free(r, n);
	return (n);
}

static void
test_open_errors(void **state)
{
	struct store	*none = NULL;
	char		*cause = NULL;

	(void)state;
	assert_null(store_open("/nonexistent-dir/x/state.db", &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "/nonexistent-dir/x/state.db"));
	free(cause);
	cause = NULL;
	assert_null(store_open("/tmp", &cause));
	assert_non_null(cause);
	free(cause);
	/* Closing nothing is a no-op. */
	store_close(&none);
	assert_null(none);
}

static void
test_first_run_no_position(void **state)
{
	struct fixture	*f = *state;
	uint32_t	 v = 1, u = 1;

	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 0);
	assert_int_equal(store_set_position(f->s, "INBOX", 7, 0), 0);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 1);
	assert_int_equal(v, 7);
	assert_int_equal(u, 0);
	/* Other mailboxes are separate. */
	assert_int_equal(store_position(f->s, "Other", &v, &u), 0);
}

static void
test_record_advances_never_back(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	uint32_t		 v, u;

	e = entry(10, "individual", 1, 1000);
	record(f, &e, NULL);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 1);
	assert_int_equal(v, 7);
	assert_int_equal(u, 10);
	e = entry(4, "individual", 1, 1000);
	record(f, &e, NULL);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 1);
	assert_int_equal(u, 10);
	e = entry(12, "couples", 2, 1000);
	record(f, &e, NULL);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 1);
	assert_int_equal(u, 12);
	/* UIDVALIDITY change: set explicitly, may go back. */
	assert_int_equal(store_set_position(f->s, "INBOX", 8, 0), 0);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 1);
	assert_int_equal(v, 8);
	assert_int_equal(u, 0);
	/* A late record for the old UIDVALIDITY leaves the new one alone. */
	e = entry(13, "couples", 2, 1000);
	record(f, &e, NULL);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 1);
	assert_int_equal(v, 8);
	assert_int_equal(u, 0);
}

static void
test_record_idempotent(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_pending	*p;
	struct store_row	*r;
	size_t			 n;

	e = entry(5, "individual", 1, 1000);
	o = outgoing("client@example.org", "individual");
	record(f, &e, &o);
	/* Same UID again, with another verdict: left alone, no 2nd reply. */
	e.category = "crisis";
	e.subject = "changed";
	record(f, &e, &o);
	assert_int_equal(store_pending(f->s, 2000, &p, &n), 0);
	assert_int_equal(n, 1);
	store_pending_free(p, n);
	assert_int_equal(store_queue(f->s, NULL, NULL, 0, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].category, "individual");
	assert_string_equal(r[0].subject, "Anfrage");
	assert_string_equal(r[0].status, STORE_PENDING);
	store_rows_free(r, n);
	/* The same UID under another UIDVALIDITY is a new message. */
	e.uidvalidity = 8;
	record(f, &e, NULL);
	assert_int_equal(queue_count(f, NULL, NULL), 2);
}

static void
test_record_rejects_incomplete(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o;
	char			*cause = NULL;
	uint32_t		 v, u;

	e = entry(5, NULL, 1, 1000);
	assert_int_equal(store_record(f->s, &e, NULL, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	e = entry(5, "individual", 1, 1000);
	o = outgoing(NULL, "individual");
	assert_int_equal(store_record(f->s, &e, &o, &cause), -1);
	free(cause);
	/* Nothing half-written. */
	assert_int_equal(queue_count(f, NULL, NULL), 0);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 0);
}

static void
test_outbox_due_and_retry(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_pending	*p;
	struct store_row	*r;
	size_t			 n;
	const char		 bin[] = "a\0b\r\n.\r\n";

	e = entry(3, "individual", 1, 1000);
	o = outgoing("client@example.org", "individual");
	o.data = bin;
	o.len = sizeof bin - 1;
	record(f, &e, &o);
	assert_int_equal(store_pending(f->s, 1, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].rcpt, "client@example.org");
	assert_string_equal(p[0].envelope_from, "");
	assert_string_equal(p[0].template, "individual");
	assert_int_equal(p[0].len, sizeof bin - 1);
	assert_memory_equal(p[0].data, bin, sizeof bin - 1);
	assert_int_equal(p[0].data[p[0].len], '\0');
	assert_int_equal(p[0].attempts, 0);
	assert_string_equal(p[0].mailbox, "INBOX");
	assert_int_equal(p[0].uidvalidity, 7);
	assert_int_equal(p[0].uid, 3);

	assert_int_equal(store_mark_retry(f->s, p[0].id, 5000,
	    "421 4.7.0 try later", 1), 0);
	store_pending_free(p, n);
	assert_int_equal(store_pending(f->s, 4999, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_null(p);
	assert_int_equal(store_pending(f->s, 5000, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].attempts, 1);
	store_pending_free(p, n);

	assert_int_equal(store_queue(f->s, NULL, NULL, 0, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].status, STORE_PENDING);
	assert_non_null(r[0].error);
	assert_string_equal(r[0].error, "421 4.7.0 try later");
	store_rows_free(r, n);
}

static void
test_mark_sent_window(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_pending	*p;
	size_t			 n;
	int64_t			 id;

	assert_int_equal(store_replied_since(f->s, "client@example.org",
	    "individual", 0), 0);
	assert_int_equal(sent_since(f, 0), 0);
	e = entry(3, "individual", 1, 1000);
	o = outgoing("Client@Example.ORG", "individual");
	record(f, &e, &o);
	/* Not sent yet, but pending: a second reply must not be queued. */
	assert_int_equal(store_replied_since(f->s, "client@example.org",
	    "individual", 0), 1);
	assert_int_equal(store_replied_since(f->s, "client@example.org",
	    "couples", 0), 0);
	/* Pending replies use no part of the hourly cap. */
	assert_int_equal(sent_since(f, 0), 0);
	assert_int_equal(store_pending(f->s, 2000, &p, &n), 0);
	assert_int_equal(n, 1);
	id = p[0].id;
	store_pending_free(p, n);
	assert_int_equal(store_mark_retry(f->s, id, 0, "451 later", 1), 0);

	assert_int_equal(store_mark_sent(f->s, id, 2000), 0);
	assert_int_equal(store_replied_since(f->s, "client@example.org",
	    "individual", 1000), 1);
	assert_int_equal(store_replied_since(f->s, "CLIENT@EXAMPLE.ORG",
	    "individual", 2000), 1);
	assert_int_equal(store_replied_since(f->s, "client@example.org",
	    "individual", 2001), 0);
	assert_int_equal(store_replied_since(f->s, "client@example.org",
	    "couples", 0), 0);
	assert_int_equal(store_replied_since(f->s, "other@example.org",
	    "individual", 0), 0);
	assert_int_equal(sent_since(f, 2000), 1);
	assert_int_equal(sent_since(f, 2001), 0);

	/* Sent replies are no longer due; a second mark adds nothing. */
	assert_int_equal(store_pending(f->s, 99999, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_mark_sent(f->s, id, 3000), 0);
	assert_int_equal(sent_since(f, 0), 1);
	assert_int_equal(store_mark_failed(f->s, id, "late"), 0);
	assert_int_equal(queue_count(f, NULL, STORE_REPLIED), 1);
	assert_int_equal(queue_count(f, NULL, STORE_FAILED), 0);
	{
		struct store_row	*r;

		assert_int_equal(store_queue(f->s, NULL, NULL, 0, &r, &n), 0);
		assert_null(r[0].error);
		store_rows_free(r, n);
	}
}

static void
test_mark_failed(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_pending	*p;
	struct store_row	*r;
	size_t			 n;

	e = entry(3, "couples", 2, 1000);
	o = outgoing("client@example.org", "couples");
	record(f, &e, &o);
	assert_int_equal(store_pending(f->s, 2000, &p, &n), 0);
	assert_int_equal(store_mark_failed(f->s, p[0].id,
	    "550 5.1.1 no such user"), 0);
	store_pending_free(p, n);
	assert_int_equal(store_pending(f->s, 99999, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_queue(f->s, NULL, STORE_FAILED, 0, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].status, STORE_FAILED);
	assert_string_equal(r[0].error, "550 5.1.1 no such user");
	store_rows_free(r, n);
	/* A failed reply is not in the window. */
	assert_int_equal(store_replied_since(f->s, "client@example.org",
	    "couples", 0), 0);
}

static void
test_unfiled(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_unfiled	*u;
	size_t			 n;

	e = entry(9, "crisis", 4, 1000);
	record(f, &e, NULL);
	e = entry(2, "individual", 1, 1000);
	record(f, &e, NULL);
	e = entry(5, "not-an-inquiry", 0, 1000);
	record(f, &e, NULL);
	e = entry(1, "couples", 2, 1000);
	e.mailbox = "Other";
	record(f, &e, NULL);
	e = entry(1, "couples", 2, 1000);
	e.uidvalidity = 99;
	record(f, &e, NULL);

	assert_int_equal(store_unfiled(f->s, "INBOX", 7, &u, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(u[0].uid, 2);
	assert_string_equal(u[0].category, "individual");
	assert_int_equal(u[1].uid, 5);
	assert_int_equal(u[2].uid, 9);
	assert_string_equal(u[2].category, "crisis");
	store_unfiled_free(u, n);

	assert_int_equal(store_mark_filed(f->s, "INBOX", 7, 5), 0);
	assert_int_equal(store_unfiled(f->s, "INBOX", 7, &u, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(u[0].uid, 2);
	assert_int_equal(u[1].uid, 9);
	store_unfiled_free(u, n);
	assert_int_equal(store_unfiled(f->s, "Nowhere", 7, &u, &n), 0);
	assert_int_equal(n, 0);
	store_unfiled_free(u, n);
}

static void
test_queue_order_filters(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_row	*r;
	size_t			 n;

	e = entry(1, "individual", 1, 100);
	record(f, &e, NULL);
	e = entry(2, "crisis", 4, 50);
	e.subject = "it's \"bad\"; DROP TABLE messages; --";
	e.tags = "";
	o = outgoing("a@example.org", "crisis");
	record(f, &e, &o);
	e = entry(3, "substance", 3, 300);
	e.tags = "alcohol,codependency";
	e.rules = "alcohol,family";
	record(f, &e, NULL);
	e = entry(4, "individual", 1, 200);
	record(f, &e, NULL);
	e = entry(5, "not-an-inquiry", 0, 400);
	e.status = STORE_SUPPRESSED;
	e.suppressed = "list-id";
	record(f, &e, NULL);
	e = entry(6, "individual", 1, 200);
	record(f, &e, NULL);

	assert_int_equal(store_queue(f->s, NULL, NULL, 0, &r, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(r[0].category, "crisis");
	assert_string_equal(r[0].subject,
	    "it's \"bad\"; DROP TABLE messages; --");
	assert_string_equal(r[0].status, STORE_PENDING);
	assert_string_equal(r[0].from, "Client@Example.org");
	assert_int_equal(r[0].received, 50);
	assert_string_equal(r[1].category, "substance");
	assert_string_equal(r[1].tags, "alcohol,codependency");
	/* Newest first within a category, then the later id on a tie. */
	assert_string_equal(r[2].category, "individual");
	assert_int_equal(r[2].received, 200);
	assert_int_equal(r[3].received, 200);
	assert_true(r[2].id > r[3].id);
	assert_int_equal(r[4].received, 100);
	assert_string_equal(r[5].category, "not-an-inquiry");
	assert_string_equal(r[5].status, STORE_SUPPRESSED);
	assert_string_equal(r[5].suppressed, "list-id");
	assert_null(r[4].suppressed);
	assert_null(r[4].error);
	store_rows_free(r, n);

	assert_int_equal(queue_count(f, "individual", NULL), 3);
	assert_int_equal(queue_count(f, "individual", STORE_SUPPRESSED), 3);
	assert_int_equal(queue_count(f, "individual", STORE_PENDING), 0);
	assert_int_equal(queue_count(f, NULL, STORE_PENDING), 1);
	assert_int_equal(queue_count(f, NULL, STORE_SUPPRESSED), 5);
	assert_int_equal(queue_count(f, "nope", NULL), 0);
}

/*
 * Handled by the therapist: open items are those not handled, by UID;
 * the first way an item was handled stays; the queue shows "handled"
 * and filters on it, and `queue done` marks one by id, once.
 */
static void
test_handled(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o = outgoing("client@example.org", "individual");
	struct store_row	*r;
	struct store_item	 it;
	struct store_open	*u;
	size_t			 n;

	e = entry(3, "individual", 40, 1000);
	record(f, &e, &o);
	e = entry(4, "individual", 40, 2000);
	record(f, &e, NULL);
	e = entry(5, "individual", 40, 10);
	record(f, &e, NULL);
	assert_int_equal(store_open_items(f->s, "INBOX", 7, 500, &u, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(u[0].uid, 3);
	assert_int_equal(u[1].uid, 4);
	assert_string_equal(u[1].category, "individual");
	store_open_free(u, n);
	assert_int_equal(store_open_items(f->s, "INBOX", 8, 0, &u, &n), 0);
	assert_int_equal(n, 0);
	store_open_free(u, n);
	assert_int_equal(store_mark_handled(f->s, "INBOX", 7, 3,
	    STORE_HANDLED_ANSWERED, 3000), 0);
	assert_int_equal(store_mark_handled(f->s, "INBOX", 7, 3,
	    STORE_HANDLED_MOVED, 4000), 0);
	assert_int_equal(store_open_items(f->s, "INBOX", 7, 500, &u, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(u[0].uid, 4);
	store_open_free(u, n);
	assert_int_equal(queue_count(f, NULL, STORE_HANDLED), 1);
	assert_int_equal(queue_count(f, NULL, STORE_PENDING), 0);
	assert_int_equal(store_queue(f->s, NULL, STORE_HANDLED, 0, &r, &n), 0);
	assert_int_equal(r[0].handled_at, 3000);
	assert_string_equal(r[0].handled_how, STORE_HANDLED_ANSWERED);
	assert_int_equal(store_mark_handled_id(f->s, r[0].id,
	    STORE_HANDLED_BY_HAND, 5000), 0);
	assert_int_equal(store_item_get(f->s, r[0].id, &it), 1);
	assert_string_equal(it.row.status, STORE_HANDLED);
	assert_string_equal(it.reply_state, STORE_PENDING);
	store_item_free(&it);
	store_rows_free(r, n);
	assert_int_equal(store_queue(f->s, NULL, STORE_SUPPRESSED, 0, &r, &n),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(store_mark_handled_id(f->s, r[0].id,
	    STORE_HANDLED_BY_HAND, 5000), 1);
	assert_int_equal(store_mark_handled_id(f->s, 999, STORE_HANDLED_BY_HAND,
	    5000), 0);
	store_rows_free(r, n);
	assert_int_equal(queue_count(f, NULL, STORE_HANDLED), 2);
}

static void
test_reopen_keeps_everything(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_pending	*p;
	struct store_unfiled	*u;
	size_t			 n;
	uint32_t		 v, uid;

	e = entry(21, "crisis", 4, 1000);
	o = outgoing("a@example.org", "crisis");
	record(f, &e, &o);
	e = entry(22, "couples", 2, 1000);
	o = outgoing("b@example.org", "couples");
	record(f, &e, &o);
	assert_int_equal(store_pending(f->s, 2000, &p, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_mark_sent(f->s, p[0].id, 1500), 0);
	store_pending_free(p, n);
	assert_int_equal(store_mark_filed(f->s, "INBOX", 7, 21), 0);

	reopen(f);
	assert_int_equal(store_position(f->s, "INBOX", &v, &uid), 1);
	assert_int_equal(uid, 22);
	assert_int_equal(store_replied_since(f->s, "A@example.org", "crisis",
	    1000), 1);
	assert_int_equal(store_pending(f->s, 2000, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].rcpt, "b@example.org");
	store_pending_free(p, n);
	assert_int_equal(store_unfiled(f->s, "INBOX", 7, &u, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(u[0].uid, 22);
	store_unfiled_free(u, n);
	assert_int_equal(queue_count(f, NULL, STORE_REPLIED), 1);
}

/* Mode bits of a file, or -1. */
static int
file_mode(const char *path)
{
	struct stat	sb;

	if (stat(path, &sb) == -1)
		return (-1);
	return ((int)(sb.st_mode & 0777));
}

/*
 * A claimed row is sent by nobody else; claims are released only by the
 * instance that holds the lock (a dead process's claims); an uncharged
 * deferral counts no attempt.
 */
static void
test_claims(void **state)
{
	struct fixture		*f = *state;
	struct store_pending	*p;
	size_t			 n;
	int64_t			 id;

	id = one_pending(f, 5, "a@example.org");
	assert_int_equal(store_claim(f->s, id), 1);
	assert_int_equal(store_claim(f->s, id), 0);
	assert_int_equal(due_count(f, 2000), 0);
	assert_int_equal(store_release_claims(f->s), 1);
	assert_int_equal(store_release_claims(f->s), 0);
	assert_int_equal(due_count(f, 2000), 1);

	/* Deferred by the cap: not due before next, no attempt counted. */
	assert_int_equal(store_claim(f->s, id), 1);
	assert_int_equal(store_mark_retry(f->s, id, 5000, "cap", 0), 0);
	assert_int_equal(due_count(f, 4999), 0);
	assert_int_equal(store_pending(f->s, 5000, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].attempts, 0);
	store_pending_free(p, n);

	/* Sent while claimed: recorded once; a sent row cannot be claimed. */
	assert_int_equal(store_claim(f->s, id), 1);
	assert_int_equal(store_mark_sent(f->s, id, 6000), 0);
	assert_int_equal(store_claim(f->s, id), 0);
	assert_int_equal(store_release_claims(f->s), 0);
	assert_int_equal(due_count(f, 99999), 0);
	assert_int_equal(sent_since(f, 6000), 1);
}

/* Crisis replies leave first, whatever their order in the outbox. */
static void
test_pending_crisis_first(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_pending	*p;
	size_t			 n;

	e = entry(1, "individual", 40, 1000);
	o = outgoing("a@example.org", "individual");
	record(f, &e, &o);
	e = entry(2, "crisis", 100, 1000);
	o = outgoing("b@example.org", "crisis");
	record(f, &e, &o);
	assert_int_equal(store_pending(f->s, 2000, &p, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(p[0].rcpt, "b@example.org");
	assert_int_equal(p[0].priority, 100);
	store_pending_free(p, n);
}

/* The hourly count has the oldest accepted reply, for the reopening. */
static void
test_sent_since_oldest(void **state)
{
	struct fixture	*f = *state;
	int64_t		 a, b;
	long		 count;
	time_t		 oldest;

	a = one_pending(f, 1, "a@example.org");
	b = one_pending(f, 2, "b@example.org");
	assert_int_equal(store_mark_sent(f->s, a, 1000), 0);
	assert_int_equal(store_mark_sent(f->s, b, 1500), 0);
	assert_int_equal(store_sent_since(f->s, 900, &count, &oldest), 0);
	assert_int_equal(count, 2);
	assert_int_equal(oldest, 1000);
	assert_int_equal(store_sent_since(f->s, 1200, &count, &oldest), 0);
	assert_int_equal(count, 1);
	assert_int_equal(oldest, 1500);
}

/* The first-run boundary is kept apart from the position. */
static void
test_boundary(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	uint32_t		 b = 0, v, u;

	assert_int_equal(store_boundary(f->s, "INBOX", &b), 0);
	assert_int_equal(store_start_mailbox(f->s, "INBOX", 7, 41), 0);
	assert_int_equal(store_boundary(f->s, "INBOX", &b), 1);
	assert_int_equal(b, 41);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 1);
	assert_int_equal(v, 7);
	assert_int_equal(u, 0);
	e = entry(3, "individual", 1, 1000);
	record(f, &e, NULL);
	reopen(f);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 1);
	assert_int_equal(u, 3);
	assert_int_equal(store_boundary(f->s, "INBOX", &b), 1);
	assert_int_equal(b, 41);
	/* A new UIDVALIDITY starts again with its own boundary. */
	assert_int_equal(store_start_mailbox(f->s, "INBOX", 8, 5), 0);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 1);
	assert_int_equal(v, 8);
	assert_int_equal(u, 0);
	assert_int_equal(store_boundary(f->s, "INBOX", &b), 1);
	assert_int_equal(b, 5);
}

/* UIDs to fetch again: counted, due at their time, dropped when read. */
static void
test_refetch(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	uint32_t		*u;
	size_t			 n;

	assert_int_equal(store_refetch_note(f->s, "INBOX", 7, 9, 100), 1);
	assert_int_equal(store_refetch_note(f->s, "INBOX", 7, 9, 200), 2);
	assert_int_equal(store_refetch_note(f->s, "INBOX", 7, 4, 50), 1);
	assert_int_equal(store_refetch_due(f->s, "INBOX", 7, 199, &u, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(u[0], 4);
	free(u);
	assert_int_equal(store_refetch_due(f->s, "INBOX", 7, 200, &u, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(u[0], 4);
	assert_int_equal(u[1], 9);
	free(u);
	assert_int_equal(store_refetch_due(f->s, "INBOX", 8, 999, &u, &n), 0);
	assert_int_equal(n, 0);
	e = entry(9, "individual", 1, 1000);
	record(f, &e, NULL);
	assert_int_equal(store_refetch_forget(f->s, "INBOX", 7, 4), 0);
	assert_int_equal(store_refetch_due(f->s, "INBOX", 7, 999, &u, &n), 0);
	assert_int_equal(n, 0);
	free(u);
}

/* One instance per state: a second lock is refused with the owner's pid. */
static void
test_instance_lock(void **state)
{
	struct fixture		*f = *state;
	struct store_lock	*a, *b;
	char			*cause = NULL, *pid;

	a = store_lock(f->path, &cause);
	assert_non_null(a);
	b = store_lock(f->path, &cause);
	assert_null(b);
	assert_non_null(cause);
	pid = xasprintf("pid %ld", (long)getpid());
	assert_non_null(strstr(cause, pid));
	assert_non_null(strstr(cause, "another triaged"));
	free(pid);
	free(cause);
	store_unlock(&a);
	assert_null(a);
	b = store_lock(f->path, &cause);
	assert_non_null(b);
	store_unlock(&b);
}

/*
 * Reading never waits for a writer: a read-only open and the queue work
 * while another connection holds the write lock, and cannot write.
 */
static void
test_open_ro(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_row	*r;
	struct store		*ro;
	sqlite3			*db;
	char			*cause = NULL;
	size_t			 n;

	e = entry(1, "individual", 1, 1000);
	record(f, &e, NULL);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	ro = store_open_ro(f->path, &cause);
	if (ro == NULL)
		fail_msg("store_open_ro: %s", cause);
	assert_int_equal(store_queue(ro, NULL, NULL, 0, &r, &n), 0);
	assert_int_equal(n, 1);
	store_rows_free(r, n);
	/* A current schema opens read-write without the write lock, too. */
	store_close(&f->s);
	f->s = store_open(f->path, &cause);
	if (f->s == NULL)
		fail_msg("store_open while locked: %s", cause);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	e = entry(2, "individual", 1, 1000);
	assert_int_equal(store_record(ro, &e, NULL, &cause), -1);
	free(cause);
	store_close(&ro);
	/* No database yet: an error, not a new file. */
	cause = NULL;
	assert_null(store_open_ro("/nonexistent-dir/state.db", &cause));
	free(cause);
}

static void
test_file_mode_and_pragmas(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	sqlite3			*db;
	sqlite3_stmt		*st;
	char			*wal, *other, *cause = NULL;
	struct store		*s2;
	mode_t			 old;

	e = entry(1, "individual", 1, 1000);
	record(f, &e, NULL);
	assert_int_equal(file_mode(f->path), 0600);
	wal = xasprintf("%s-wal", f->path);
	assert_int_equal(file_mode(wal), 0600);
	free(wal);

	/* WAL is in the file, and the schema has a version. */
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 9);
	sqlite3_finalize(st);
	sqlite3_close(db);

	/* A permissive umask does not matter; an existing 0644 is fixed. */
	old = umask(0);
	other = xasprintf("%s/other.db", f->dir);
	s2 = store_open(other, &cause);
	assert_non_null(s2);
	assert_int_equal(file_mode(other), 0600);
	store_close(&s2);
	assert_int_equal(chmod(other, 0644), 0);
	s2 = store_open(other, &cause);
	assert_non_null(s2);
	assert_int_equal(file_mode(other), 0600);
	store_close(&s2);
	umask(old);
	free(other);
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	char		*cause = NULL;

	store_close(&f->s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(f->path, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "newer"));
	free(cause);
	/* Leave a usable store for teardown. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA user_version = 9", NULL, NULL, NULL);
	sqlite3_close(db);
	reopen(f);
}

static void
test_killed_writer(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_pending	*p;
	size_t			 n;
	pid_t			 pid;
	int			 status;
	uint32_t		 v, u;

	store_close(&f->s);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		struct store	*s;
		char		*cause = NULL;

		if ((s = store_open(f->path, &cause)) == NULL)
			_exit(2);
		e = entry(31, "crisis", 4, 1000);
		o = outgoing("a@example.org", "crisis");
		if (store_record(s, &e, &o, &cause) != 0)
			_exit(3);
		/* Die with the connection open and nothing checkpointed. */
		raise(SIGKILL);
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	reopen(f);
	assert_int_equal(store_position(f->s, "INBOX", &v, &u), 1);
	assert_int_equal(u, 31);
	assert_int_equal(store_pending(f->s, 2000, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].rcpt, "a@example.org");
	assert_int_equal(p[0].uid, 31);
	store_pending_free(p, n);
}

/* The known-sender cache: any case, refreshed, too old is no answer. */
static void
test_known_cache(void **state)
{
	struct fixture	*f = *state;
	int		 known = -1;

	assert_int_equal(store_known_get(f->s, "a@example.org", 0, &known),
	    0);
	assert_int_equal(known, -1);
	assert_int_equal(store_known_set(f->s, "A@Example.org", 1, 1000), 0);
	assert_int_equal(store_known_get(f->s, "a@example.ORG", 500, &known),
	    1);
	assert_int_equal(known, 1);
	/* Checked before since: no answer, ask the server again. */
	assert_int_equal(store_known_get(f->s, "a@example.org", 1001,
	    &known), 0);
	/* Refreshed: the new answer replaces the old, one row. */
	assert_int_equal(store_known_set(f->s, "a@example.org", 0, 2000), 0);
	known = -1;
	assert_int_equal(store_known_get(f->s, "a@example.org", 1500,
	    &known), 1);
	assert_int_equal(known, 0);
	/* Kept across a restart. */
	reopen(f);
	assert_int_equal(store_known_get(f->s, "A@EXAMPLE.ORG", 1500,
	    &known), 1);
	assert_int_equal(known, 0);
	assert_int_equal(store_known_get(f->s, "b@example.org", 0, &known),
	    0);
}

/* A version 1 database (no known_cache) is migrated on open. */
/* sqlite3_exec callback: any row is a failure. */
static int
fail_on_row(void *arg, int n, char **v, char **names)
{
	fail_msg("unexpected row: %s", n > 0 && v[0] != NULL ? v[0] : "");
	return (1);
}

static void
test_migrate_v1(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	int		 known = 0;

	store_close(&f->s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	/* Back to version 1 as it was on disk. */
	assert_int_equal(sqlite3_exec(db, "DROP TABLE known_cache; "
	    "DROP TABLE refetch; ALTER TABLE position DROP COLUMN boundary; "
	    "ALTER TABLE outbox DROP COLUMN claimed; DROP TABLE meta; "
	    "ALTER TABLE outbox DROP COLUMN kind; DROP INDEX messages_open; "
	    "ALTER TABLE messages DROP COLUMN handled_at; "
	    "ALTER TABLE messages DROP COLUMN handled_how; "
	    "DROP TABLE corrections; "
	    "ALTER TABLE messages DROP COLUMN moved; "
	    "ALTER TABLE messages DROP COLUMN folder; "
	    "ALTER TABLE messages DROP COLUMN folder_uid; "
	    "DROP INDEX messages_retention; "
	    "ALTER TABLE messages DROP COLUMN erased; "
	    "DROP TABLE problems; DROP TABLE health; "
	    /* Version 1 kept the reply window's addresses in the clear. */
	    "INSERT INTO replies (sender, template, sent_at) VALUES "
	    "('old@example.org', 'individual', 500); "
	    "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	reopen(f);
	/* Hashed by the migration, and still found by the window. */
	assert_int_equal(store_replied_since(f->s, "OLD@example.org",
	    "individual", 400), 1);
	assert_int_equal(store_replied_since(f->s, "old@example.org",
	    "individual", 600), 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "SELECT 1 FROM replies WHERE "
	    "sender LIKE '%old@%'", fail_on_row, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_known_set(f->s, "a@example.org", 1, 10), 0);
	assert_int_equal(store_known_get(f->s, "a@example.org", 0, &known),
	    1);
	assert_int_equal(known, 1);
}

/* Does the file hold the bytes of needle (anywhere, any page)? */
static int
file_holds(const char *path, const char *needle)
{
	FILE	*fp;
	char	*data;
	long	 len;
	int	 found;

	if ((fp = fopen(path, "rb")) == NULL)
		return (0);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	data = xmalloc(len > 0 ? (size_t)len : 1);
	assert_int_equal(fread(data, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	found = len > 0 && memmem(data, (size_t)len, needle,
	    strlen(needle)) != NULL;
	free(data);
	return (found);
}

/* Does the database or its WAL still hold needle? */
static int
state_holds(struct fixture *f, const char *needle)
{
	char	*wal = xasprintf("%s-wal", f->path);
	int	 found;

	found = file_holds(f->path, needle) || file_holds(wal, needle);
	free(wal);
	return (found);
}

/* A message from sender with a reply sent to rcpt; the outbox id. */
static int64_t
replied(struct fixture *f, uint32_t uid, const char *sender,
    const char *rcpt, const char *subject, time_t received)
{
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_pending	*p;
	size_t			 n, i;
	int64_t			 id = -1;

	e = entry(uid, "individual", 1, received);
	e.sender = sender;
	e.subject = subject;
	o = outgoing(rcpt, "individual");
	o.data = "Subject: Re\r\n\r\nHello Persephone-Reply-Text\r\n";
	o.len = strlen(o.data);
	record(f, &e, &o);
	assert_int_equal(store_pending(f->s, received + 10, &p, &n), 0);
	for (i = 0; i < n; i++)
		if (strcmp(p[i].rcpt, rcpt) == 0)
			id = p[i].id;
	store_pending_free(p, n);
	assert_true(id > 0);
	assert_int_equal(store_mark_sent(f->s, id, received + 20), 0);
	return (id);
}

/*
 * Retention erases the personal data of old messages from the files (not
 * only from the rows), keeps verdicts, and the reply window still works
 * from the salted hash; a message with a reply still pending keeps it.
 */
static void
test_retention(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e;
	struct store_outgoing	 o;
	struct store_row	*r;
	size_t			 n, i;

	replied(f, 1, "Old.Writer@example.org", "old.writer@example.org",
	    "Subject-Of-Old-Inquiry", 1000);
	replied(f, 2, "new.writer@example.org", "new.writer@example.org",
	    "Subject-Of-New-Inquiry", 50000);
	/* Old, with its reply still pending: kept until settled. */
	e = entry(3, "crisis", 0, 1500);
	e.sender = "pending.writer@example.org";
	e.subject = "Subject-Of-Pending";
	o = outgoing("pending.writer@example.org", "crisis");
	record(f, &e, &o);
	assert_int_equal(store_known_set(f->s, "old.writer@example.org", 1,
	    900), 0);

	assert_true(state_holds(f, "Subject-Of-Old-Inquiry"));
	assert_int_equal(store_retention(f->s, 10000), 1);
	assert_false(state_holds(f, "Subject-Of-Old-Inquiry"));
	assert_false(state_holds(f, "Old.Writer@example.org"));
	assert_false(state_holds(f, "old.writer@example.org"));
	assert_true(state_holds(f, "Subject-Of-New-Inquiry"));
	assert_true(state_holds(f, "Subject-Of-Pending"));
	/* The window still knows the old writer was answered. */
	assert_int_equal(store_replied_since(f->s, "OLD.writer@example.org",
	    "individual", 500), 1);
	/* The verdicts stay for the statistics. */
	assert_int_equal(store_queue(f->s, NULL, NULL, 0, &r, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		if (r[i].received == 1000) {
			assert_string_equal(r[i].category, "individual");
			assert_string_equal(r[i].status, "replied");
		}
	store_rows_free(r, n);
	/* Again: nothing more to erase. */
	assert_int_equal(store_retention(f->s, 10000), 0);
	reopen(f);
	assert_false(state_holds(f, "Subject-Of-Old-Inquiry"));
}

/*
 * forget: every trace of one person (their messages, replies, window and
 * cached answers, also a reply through a web-form relay) leaves the files;
 * others stay.
 */
static void
test_forget(void **state)
{
	struct fixture		*f = *state;
	struct store_forgotten	 fg;
	char			*cause = NULL;
	int			 known;

	replied(f, 1, "Dana.Person@example.org", "dana.person@example.org",
	    "Dana-Subject-One", 1000);
	replied(f, 2, "dana.person@example.org", "dana.person@example.org",
	    "Dana-Subject-Two", 2000);
	/* Through a relay: the message is the form's, the reply Dana's. */
	replied(f, 3, "form@forms.example", "Dana.Person@example.org",
	    "Dana-Via-Form", 3000);
	replied(f, 4, "other@example.org", "other@example.org",
	    "Other-Subject", 4000);
	assert_int_equal(store_known_set(f->s, "dana.person@example.org", 1,
	    900), 0);

	assert_int_equal(store_forget(f->s, "DANA.person@example.org", &fg,
	    &cause), 0);
	assert_int_equal(fg.messages, 3);
	assert_int_equal(fg.replies, 3);
	assert_int_equal(fg.window, 3);
	assert_int_equal(fg.known, 1);
	assert_false(state_holds(f, "Dana-Subject-One"));
	assert_false(state_holds(f, "Dana-Via-Form"));
	assert_false(state_holds(f, "ana.person@example.org"));
	assert_true(state_holds(f, "Other-Subject"));
	assert_int_equal(store_replied_since(f->s, "dana.person@example.org",
	    "individual", 0), 0);
	assert_int_equal(store_replied_since(f->s, "other@example.org",
	    "individual", 0), 1);
	assert_int_equal(store_known_get(f->s, "dana.person@example.org", 0,
	    &known), 0);
	assert_int_equal(queue_count(f, NULL, NULL), 1);
	/* Nobody by that name: nothing removed, no error. */
	assert_int_equal(store_forget(f->s, "nobody@example.org", &fg,
	    &cause), 0);
	assert_int_equal(fg.messages + fg.replies + fg.window + fg.known, 0);
}

/*
 * The crisis alert: queued with the verdict, once, before the message's
 * own reply; sending it changes neither the message nor the reply
 * history, and it counts for no cap and no window.
 */
static void
test_crisis_alert(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e = entry(5, "crisis", 100, 1000);
	struct store_outgoing	 o = outgoing("client@example.org", "crisis");
	struct store_pending	*p;
	struct store_item	 it;
	size_t			 n;

	e.alert_to = "therapist@practice.example";
	e.alert_from = "";
	record(f, &e, &o);
	/* Recorded again (a second pass): no second alert. */
	record(f, &e, &o);
	assert_int_equal(store_pending(f->s, 2000, &p, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].is_alert, 1);
	assert_string_equal(p[0].rcpt, "therapist@practice.example");
	assert_int_equal(p[0].len, 0);
	assert_int_equal(p[0].received, 1000);
	assert_string_equal(p[0].status, STORE_PENDING);
	assert_int_equal(p[1].is_alert, 0);
	assert_int_equal(p[0].message, p[1].message);
	assert_int_equal(store_claim(f->s, p[0].id), 1);
	assert_int_equal(store_mark_sent(f->s, p[0].id, 2000), 0);
	assert_int_equal(sent_since(f, 0), 0);
	assert_int_equal(store_replied_since(f->s,
	    "therapist@practice.example", STORE_KIND_ALERT, 0), 0);
	assert_int_equal(store_item_get(f->s, p[0].message, &it), 1);
	assert_string_equal(it.row.status, STORE_PENDING);
	assert_string_equal(it.alert_status, "sent");
	assert_string_equal(it.reply_template, "crisis");
	store_item_free(&it);
	/* The reply's failure is the message's; an alert's would not be. */
	assert_int_equal(store_claim(f->s, p[1].id), 1);
	assert_int_equal(store_mark_sent(f->s, p[1].id, 2001), 0);
	assert_int_equal(sent_since(f, 0), 1);
	store_pending_free(p, n);
	assert_int_equal(store_pending(f->s, 3000, &p, &n), 0);
	assert_int_equal(n, 0);
	store_pending_free(p, n);
	assert_int_equal(queue_count(f, NULL, STORE_REPLIED), 1);
}

/*
 * A correction: recorded once, with the old verdict; the message takes
 * the new category (and its place in the queue).
 */
static void
test_correction(void **state)
{
	struct fixture		*f = *state;
	struct store_entry	 e = entry(9, "individual", 40, 1000);
	struct store_correction	*c;
	size_t			 n;

	record(f, &e, NULL);
	assert_int_equal(store_correct(f->s, "INBOX", 7, 9, "individual", 40,
	    2000), 0);
	assert_int_equal(store_correct(f->s, "INBOX", 7, 9, "couples", 60,
	    2000), 1);
	assert_int_equal(store_correct(f->s, "INBOX", 7, 9, "couples", 60,
	    3000), 0);
	assert_int_equal(store_correct(f->s, "INBOX", 7, 99, "couples", 60,
	    3000), 0);
	assert_int_equal(queue_count(f, "couples", NULL), 1);
	assert_int_equal(queue_count(f, "individual", NULL), 0);
	assert_int_equal(store_corrections(f->s, 0, &c, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].from, "individual");
	assert_string_equal(c[0].to, "couples");
	assert_int_equal(c[0].at, 2000);
	store_corrections_free(c, n);
	assert_int_equal(store_corrections(f->s, 2500, &c, &n), 0);
	assert_int_equal(n, 0);
	store_corrections_free(c, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_first_run_no_position,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_record_advances_never_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_idempotent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_record_rejects_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_due_and_retry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_sent_window,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_failed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unfiled,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_order_filters,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_everything,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_mode_and_pragmas,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_writer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_known_cache,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_crisis_first,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sent_since_oldest,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_boundary, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_lock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_ro, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crisis_alert, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_handled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_correction, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
