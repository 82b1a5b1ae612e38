/*
 * State in one SQLite database: mailbox position, messages and verdicts,
 * the durable outbox and the reply history. WAL with synchronous=FULL on
 * every open, writers take BEGIN IMMEDIATE, and every statement binds its
 * values: nothing from a message is ever pasted into SQL.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "xmalloc.h"

/* Bump with a migration step in store_migrate. */
#define STORE_VERSION	9
#define STORE_VERSION_STR "9"
#define STORE_BUSY_MS	5000

struct store {
	sqlite3	*db;
	char	*path;
};

/* The instance lock: an flock on a file beside the database. */
struct store_lock {
	int	 fd;
	char	*path;
};

static const char store_schema_v1[] =
	"CREATE TABLE position ("
	" mailbox TEXT PRIMARY KEY,"
	" uidvalidity INTEGER NOT NULL,"
	" last_uid INTEGER NOT NULL);"
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" mailbox TEXT NOT NULL,"
	" uidvalidity INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" received INTEGER NOT NULL,"
	" message_id TEXT,"
	" sender TEXT,"
	" subject TEXT,"
	" category TEXT NOT NULL,"
	" priority INTEGER NOT NULL DEFAULT 0,"
	" tags TEXT NOT NULL DEFAULT '',"
	" rules TEXT NOT NULL DEFAULT '',"
	" status TEXT NOT NULL,"
	" suppressed TEXT,"
	" error TEXT,"
	" filed INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" UNIQUE (mailbox, uidvalidity, uid));"
	"CREATE INDEX messages_unfiled ON messages (mailbox, uidvalidity,"
	" filed, uid);"
	"CREATE INDEX messages_queue ON messages (priority, received);"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" message_id INTEGER NOT NULL REFERENCES messages (id),"
	" rcpt TEXT NOT NULL,"
	" envelope_from TEXT NOT NULL,"
	" template TEXT NOT NULL,"
	" subject TEXT,"
	" reply_message_id TEXT,"
	" data BLOB NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'pending'"
	"  CHECK (status IN ('pending', 'sent', 'failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_try INTEGER NOT NULL,"
	" error TEXT,"
	" sent_at INTEGER);"
	"CREATE INDEX outbox_due ON outbox (status, next_try);"
	"CREATE TABLE replies ("
	" id INTEGER PRIMARY KEY,"
	" sender TEXT NOT NULL COLLATE NOCASE,"
	" template TEXT NOT NULL,"
	" sent_at INTEGER NOT NULL);"
	"CREATE INDEX replies_window ON replies (sender, template, sent_at);"
	"CREATE INDEX replies_time ON replies (sent_at);";

/* Version 2: what the Sent folder said about a sender (skip_known). */
static const char store_schema_v2[] =
	"CREATE TABLE IF NOT EXISTS known_cache ("
	" sender TEXT PRIMARY KEY COLLATE NOCASE,"
	" known INTEGER NOT NULL,"
	" checked_at INTEGER NOT NULL);";

/*
 * Version 3: the first-run boundary (UIDNEXT when triaged first selected
 * the mailbox), the claim of an outbox row being sent, and the messages
 * to fetch again (missing from a FETCH reply or refused by the server).
 */
static const char store_schema_v3[] =
	"ALTER TABLE position ADD COLUMN boundary INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE outbox ADD COLUMN claimed INTEGER;"
	"CREATE TABLE refetch ("
	" mailbox TEXT NOT NULL,"
	" uidvalidity INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_try INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (mailbox, uidvalidity, uid));";

/*
 * Version 4: privacy. The reply window keeps a salted hash of an address,
 * never the address (addr_hash below, the salt random per database), and
 * a message whose personal data retention erased is marked erased.
 */
#define STORE_SALT	"(SELECT value FROM meta WHERE key = 'salt')"
static const char store_schema_v4[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"INSERT INTO meta (key, value) VALUES ('salt', randomblob(16));"
	"UPDATE replies SET sender = addr_hash(" STORE_SALT ", sender);"
	"ALTER TABLE messages ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX messages_retention ON messages (erased, received);";

/*
 * Version 5: health. A problem (the inbox cannot be read, replies keep
 * failing) open since when, its last cause (never message content) and
 * when it was last alerted; and the figures `triaged status` shows.
 */
static const char store_schema_v5[] =
	"CREATE TABLE problems ("
	" kind TEXT PRIMARY KEY,"
	" since INTEGER NOT NULL,"
	" last_at INTEGER NOT NULL,"
	" error TEXT NOT NULL,"
	" alerted_at INTEGER,"
	" recovered_at INTEGER);"
	"CREATE TABLE health ("
	" key TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL);";

/*
 * Version 6: the crisis alert to the practice ([alerts] crisis_to) is an
 * outbox row of its own kind, queued with the message's verdict, so it
 * goes once and survives a crash; it never counts as a reply.
 */
static const char store_schema_v6[] =
	"ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';";

/*
 * Version 7: handled by the therapist (\Answered set by their mail client,
 * the message moved or deleted, or `queue done`), when and how; and
 * "handled" no longer means "triaged, not to be answered": those are
 * suppressed, with the reason (no-reply: the category is never answered).
 */
static const char store_schema_v7[] =
	"ALTER TABLE messages ADD COLUMN handled_at INTEGER;"
	"ALTER TABLE messages ADD COLUMN handled_how TEXT;"
	"UPDATE messages SET status = 'suppressed', suppressed ="
	" coalesce(suppressed, 'no-reply') WHERE status = 'handled';"
	"CREATE INDEX messages_open ON messages (mailbox, uidvalidity,"
	" handled_at, uid);";

/*
 * Version 8: corrections. The therapist gave a message another category
 * (replaced its $Triage_ keyword): the old verdict, the new category and
 * when; the message takes the new category.
 */
static const char store_schema_v8[] =
	"CREATE TABLE corrections ("
	" id INTEGER PRIMARY KEY,"
	" message_id INTEGER NOT NULL REFERENCES messages (id),"
	" old_category TEXT NOT NULL,"
	" new_category TEXT NOT NULL,"
	" at INTEGER NOT NULL);";

/*
 * Version 9: filing into folders ([queue] file_into). moved: 0 not yet,
 * 1 a move begun (folder named; after a crash, look there for a copy),
 * 2 in folder as folder_uid (NULL: the server did not say), 3 stays in
 * the mailbox.
 */
static const char store_schema_v9[] =
	"ALTER TABLE messages ADD COLUMN moved INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN folder TEXT;"
	"ALTER TABLE messages ADD COLUMN folder_uid INTEGER;";

/* What queue shows as the status: handled once the therapist has. */
#define STORE_SHOWN_STATUS \
	"(CASE WHEN handled_at IS NOT NULL THEN 'handled' ELSE status END)"
#define STORE_OPEN_MAX_STR	"1000"
/* The columns of a store_row, in store_rows_read's order. */
#define STORE_ROW_COLUMNS "id, received, sender, subject, category, tags, " \
	STORE_SHOWN_STATUS ", suppressed, error, erased, handled_at, " \
	"handled_how, CASE WHEN moved = " STORE_MOVE_DONE_STR " THEN folder " \
	"END, CASE WHEN moved = " STORE_MOVE_DONE_STR " THEN folder_uid END"

static int	store_rows_read(struct store *, sqlite3_stmt *,
		    struct store_row **, size_t *);

static int	store_step_kind(struct store *, const char *, const char *,
		    time_t);
static int	store_position_row(struct store *, const char *, uint32_t *,
		    uint32_t *, uint32_t *);

/* Report the connection's last error for a failed step, without content. */
static void
store_warn(struct store *s, const char *what)
{
	log_warnx("%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* Compile one statement; NULL (logged) on error. */
static sqlite3_stmt *
store_prepare(struct store *s, const char *sql)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_warn(s, "prepare");
		return (NULL);
	}
	return (st);
}

/* Bind a string that may be NULL (stored as SQL NULL). */
static int
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return (sqlite3_bind_null(st, i));
	return (sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT));
}

/* Bind ?1 ?2 ?3 to a message's mailbox, UIDVALIDITY and UID. */
static void
store_bind_message(sqlite3_stmt *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid)
{
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, uid);
}

/* Copy a text column that may be NULL. */
static char *
store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char	*v;

	if ((v = sqlite3_column_text(st, i)) == NULL)
		return (NULL);
	return (xstrdup((const char *)v));
}

/* Copy a text column, "" for NULL, for fields the callers print. */
static char *
store_col_text0(sqlite3_stmt *st, int i)
{
	char	*v;

	if ((v = store_col_text(st, i)) == NULL)
		return (xstrdup(""));
	return (v);
}

/* Run SQL without results (pragmas, transaction control, schema). */
static int
store_exec(struct store *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		store_warn(s, "exec");
		return (-1);
	}
	return (0);
}

/* Step a statement that returns no rows, then finalize it. */
static int
store_done(struct store *s, sqlite3_stmt *st)
{
	int	rc;

	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_warn(s, "step");
		return (-1);
	}
	return (0);
}

/* Start a write transaction: IMMEDIATE takes the write lock up front. */
static int
store_begin(struct store *s)
{
	return (store_exec(s, "BEGIN IMMEDIATE"));
}

/* Commit, or roll back on failure so the connection stays usable. */
static int
store_commit(struct store *s)
{
	if (store_exec(s, "COMMIT") == -1) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return (-1);
	}
	return (0);
}

/* Undo a transaction after a failed step. */
static void
store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db) == 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Create the file with mode 0600 before SQLite sees it (SQLite gives the
 * WAL and shm files the same mode), and tighten an existing file that
 * group or others can read: it holds correspondents' addresses.
 */
static int
store_create_file(const char *path, char **cause)
{
	struct stat	sb;
	int		fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &sb) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if (!S_ISREG(sb.st_mode)) {
		*cause = xasprintf("%s: not a regular file", path);
		close(fd);
		return (-1);
	}
	if ((sb.st_mode & 077) != 0) {
		log_warnx("%s: was readable by group or others, mode set "
		    "to 0600", path);
		if (fchmod(fd, 0600) == -1) {
			*cause = xasprintf("%s: chmod: %s", path,
			    strerror(errno));
			close(fd);
			return (-1);
		}
	}
	close(fd);
	return (0);
}

/* Read the schema version (PRAGMA user_version); -1 on error. */
static int
store_version(struct store *s)
{
	sqlite3_stmt	*st;
	int		 version;

	if ((st = store_prepare(s, "PRAGMA user_version")) == NULL)
		return (-1);
	version = sqlite3_step(st) == SQLITE_ROW ?
	    sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return (version);
}

/*
 * Bring the schema to STORE_VERSION, one step per version. The write lock
 * is taken only when the schema is old: a current database is opened
 * without waiting for another process's transaction.
 */
static int
store_migrate(struct store *s, char **cause)
{
	int	version;

	if ((version = store_version(s)) < 0)
		goto fail;
	if (version == STORE_VERSION)
		return (0);
	if (store_begin(s) == -1)
		goto fail;
	/* Read again under the lock: another process may have migrated. */
	if ((version = store_version(s)) < 0)
		goto fail;
	if (version > STORE_VERSION) {
		store_rollback(s);
		*cause = xasprintf("%s: schema version %d is newer than this "
		    "triaged (%d)", s->path, version, STORE_VERSION);
		return (-1);
	}
	if (version < 1 && store_exec(s, store_schema_v1) == -1)
		goto fail;
	if (version < 2 && store_exec(s, store_schema_v2) == -1)
		goto fail;
	if (version < 3 && store_exec(s, store_schema_v3) == -1)
		goto fail;
	if (version < 4 && store_exec(s, store_schema_v4) == -1)
		goto fail;
	if (version < 5 && store_exec(s, store_schema_v5) == -1)
		goto fail;
	if (version < 6 && store_exec(s, store_schema_v6) == -1)
		goto fail;
	if (version < 7 && store_exec(s, store_schema_v7) == -1)
		goto fail;
	if (version < 8 && store_exec(s, store_schema_v8) == -1)
		goto fail;
	if (version < 9 && store_exec(s, store_schema_v9) == -1)
		goto fail;
	if (version < STORE_VERSION && store_exec(s,
	    "PRAGMA user_version = " STORE_VERSION_STR) == -1)
		goto fail;
	if (store_commit(s) == -1)
		goto fail;
	return (0);

fail:
	*cause = xasprintf("%s: schema: %s", s->path, sqlite3_errmsg(s->db));
	store_rollback(s);
	return (-1);
}

/* Check that journal_mode=WAL took (it fails on some filesystems). */
static int
store_wal(struct store *s, char **cause)
{
	sqlite3_stmt	*st;
	const char	*mode;
	int		 ok;

	if ((st = store_prepare(s, "PRAGMA journal_mode = WAL")) == NULL)
		goto fail;
	ok = 0;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (mode = (const char *)sqlite3_column_text(st, 0)) != NULL)
		ok = strcmp(mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		*cause = xasprintf("%s: cannot switch to WAL mode (a local "
		    "filesystem is needed)", s->path);
		return (-1);
	}
	return (0);

fail:
	*cause = xasprintf("%s: %s", s->path, sqlite3_errmsg(s->db));
	return (-1);
}

/*
 * SQL function addr_hash(salt, address): "sha256:" and the hex SHA-256 of
 * the salt and the address in lower case (ASCII, as the addresses are
 * compared), so the reply window works without keeping the address.
 */
static void
store_fn_addr_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 digest[32];
	char			 out[sizeof "sha256:" + 64];
	const unsigned char	*salt, *addr;
	unsigned char		*buf;
	int			 nsalt, naddr, i;

	if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	salt = sqlite3_value_blob(argv[0]);
	nsalt = sqlite3_value_bytes(argv[0]);
	addr = sqlite3_value_text(argv[1]);
	naddr = sqlite3_value_bytes(argv[1]);
	buf = xmalloc((size_t)nsalt + (size_t)naddr + 1);
	if (nsalt > 0)
		memcpy(buf, salt, (size_t)nsalt);
	for (i = 0; i < naddr; i++)
		buf[nsalt + i] = (unsigned char)tolower(addr[i]);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, (size_t)nsalt +
	    (size_t)naddr, digest) != 0) {
		free(buf);
		sqlite3_result_error(ctx, "addr_hash: sha256 failed", -1);
		return;
	}
	explicit_bzero(buf, (size_t)nsalt + (size_t)naddr);
	free(buf);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[digest[i] >> 4];
		out[8 + 2 * i] = hex[digest[i] & 15];
	}
	out[7 + 64] = '\0';
	sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

/* Register the SQL functions the schema and the queries use. */
static int
store_functions(struct store *s)
{
	return (sqlite3_create_function(s->db, "addr_hash", 2, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, store_fn_addr_hash, NULL, NULL) ==
	    SQLITE_OK ? 0 : -1);
}

/* Open or create the database with its pragmas and schema. */
struct store *
store_open(const char *path, char **cause)
{
	struct store	*s;

	if (store_create_file(path, cause) == -1)
		return (NULL);
	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		*cause = xasprintf("%s: %s", path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	/* synchronous is per connection (LIBRARIES.md §5): every open. */
	if (store_wal(s, cause) == -1)
		goto fail;
	/*
	 * secure_delete: deleted and overwritten content is zeroed, not left
	 * in free pages, so erased personal data is gone from the file.
	 */
	if (store_functions(s) == -1 ||
	    store_exec(s, "PRAGMA synchronous = FULL") == -1 ||
	    store_exec(s, "PRAGMA foreign_keys = ON") == -1 ||
	    store_exec(s, "PRAGMA secure_delete = ON") == -1) {
		*cause = xasprintf("%s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (store_migrate(s, cause) == -1)
		goto fail;
	return (s);

fail:
	store_close(&s);
	return (NULL);
}

/*
 * Open for reading only (queue, status): no schema change, no write lock,
 * so it never waits for a writer. A database that does not exist yet is
 * an error the caller may read as "nothing recorded".
 */
struct store *
store_open_ro(const char *path, char **cause)
{
	struct store	*s;
	int		 version;

	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		*cause = xasprintf("%s: %s", path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	if (store_functions(s) == -1 || (version = store_version(s)) < 0) {
		*cause = xasprintf("%s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (version != STORE_VERSION) {
		*cause = xasprintf("%s: schema version %d, this triaged reads "
		    "%d (run triaged once to upgrade it)", path, version,
		    STORE_VERSION);
		goto fail;
	}
	return (s);

fail:
	store_close(&s);
	return (NULL);
}

/* Close the connection and clear the caller's pointer. */
void
store_close(struct store **sp)
{
	struct store	*s = *sp;

	if (s == NULL)
		return;
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		store_warn(s, "close");
	free(s->path);
	free(s);
	*sp = NULL;
}

/*
 * The first-run boundary of mailbox: UIDs below it were there before
 * triaged first looked. 1 and *boundary, 0 when unknown, -1 on error.
 */
int
store_boundary(struct store *s, const char *mailbox, uint32_t *boundary)
{
	uint32_t	v, last;

	return (store_position_row(s, mailbox, &v, &last, boundary));
}

/*
 * Start reading mailbox afresh (first run, new UIDVALIDITY): position 0
 * and the first-run boundary, in one durable write before any message is
 * handled, and forget what was waiting to be fetched again.
 */
int
store_start_mailbox(struct store *s, const char *mailbox,
    uint32_t uidvalidity, uint32_t boundary)
{
	sqlite3_stmt	*st;

	if (store_begin(s) == -1)
		return (-1);
	st = store_prepare(s, "INSERT INTO position (mailbox, uidvalidity, "
	    "last_uid, boundary) VALUES (?1, ?2, 0, ?3) ON CONFLICT (mailbox) "
	    "DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = 0, "
	    "boundary = excluded.boundary");
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, boundary);
	if (store_done(s, st) == -1)
		goto fail;
	st = store_prepare(s, "DELETE FROM refetch WHERE mailbox = ?1");
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, mailbox);
	if (store_done(s, st) == -1)
		goto fail;
	return (store_commit(s));

fail:
	store_rollback(s);
	return (-1);
}

/* Forget a UID that was waiting to be fetched again (read, or gone). */
int
store_refetch_forget(struct store *s, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "DELETE FROM refetch WHERE mailbox = ? AND "
	    "uidvalidity = ? AND uid = ?");
	if (st == NULL)
		return (-1);
	store_bind_message(st, mailbox, uidvalidity, uid);
	return (store_done(s, st));
}

/*
 * Note one more failed attempt at fetching uid, to try again at next.
 * Returns the attempts so far (1 the first time), or -1.
 */
int
store_refetch_note(struct store *s, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, time_t next)
{
	sqlite3_stmt	*st;
	int		 n = -1;

	st = store_prepare(s, "INSERT INTO refetch (mailbox, uidvalidity, "
	    "uid, attempts, next_try) VALUES (?1, ?2, ?3, 1, ?4) "
	    "ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET "
	    "attempts = attempts + 1, next_try = excluded.next_try "
	    "RETURNING attempts");
	if (st == NULL)
		return (-1);
	store_bind_message(st, mailbox, uidvalidity, uid);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)next);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_warn(s, "refetch");
		n = -1;
	}
	sqlite3_finalize(st);
	return (n);
}

/* The UIDs due to be fetched again, ascending; caller frees. 0 or -1. */
int
store_refetch_due(struct store *s, const char *mailbox, uint32_t uidvalidity,
    time_t now, uint32_t **uids, size_t *n)
{
	sqlite3_stmt	*st;
	uint32_t	*u = NULL;
	size_t		 k = 0;
	int		 rc;

	*uids = NULL;
	*n = 0;
	st = store_prepare(s, "SELECT uid FROM refetch WHERE mailbox = ? AND "
	    "uidvalidity = ? AND next_try <= ? ORDER BY uid");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		u = xreallocarray(u, k + 1, sizeof *u);
		u[k++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_warn(s, "refetch");
		free(u);
		return (-1);
	}
	*uids = u;
	*n = k;
	return (0);
}

/*
 * Take the instance lock: an exclusive flock on PATH.lock beside the
 * database, holding the owner's pid for the message a second instance
 * prints. Never blocks. NULL and *cause when another process holds it.
 */
struct store_lock *
store_lock(const char *dbpath, char **cause)
{
	struct store_lock	*l;
	char			 pid[32], *path;
	ssize_t			 n;
	int			 fd;

	path = xasprintf("%s.lock", dbpath);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		free(path);
		return (NULL);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, pid, sizeof pid - 1, 0);
			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			*cause = xasprintf("another triaged (pid %s) is using "
			    "%s; only one instance may run on one state",
			    pid[0] != '\0' ? pid : "unknown", dbpath);
		} else
			*cause = xasprintf("%s: flock: %s", path,
			    strerror(errno));
		close(fd);
		free(path);
		return (NULL);
	}
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("%s", path);
	l = xcalloc(1, sizeof *l);
	l->fd = fd;
	l->path = path;
	return (l);
}

/* Drop the instance lock (the lock file stays). */
void
store_unlock(struct store_lock **lp)
{
	struct store_lock	*l = *lp;

	if (l == NULL)
		return;
	close(l->fd);
	free(l->path);
	free(l);
	*lp = NULL;
}

/* Read the position row of mailbox: 1 and the values, 0 none, -1 error. */
static int
store_position_row(struct store *s, const char *mailbox,
    uint32_t *uidvalidity, uint32_t *last_uid, uint32_t *boundary)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_prepare(s, "SELECT uidvalidity, last_uid, boundary FROM "
	    "position WHERE mailbox = ?");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, mailbox);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(st, 1);
		*boundary = (uint32_t)sqlite3_column_int64(st, 2);
		rc = 1;
		break;
	case SQLITE_DONE:
		rc = 0;
		break;
	default:
		store_warn(s, "position");
		rc = -1;
		break;
	}
	sqlite3_finalize(st);
	return (rc);
}

/* Read where the last pass stopped in mailbox. */
int
store_position(struct store *s, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid)
{
	uint32_t	boundary;

	return (store_position_row(s, mailbox, uidvalidity, last_uid,
	    &boundary));
}

/* Replace the position outright (first run, UIDVALIDITY change). */
int
store_set_position(struct store *s, const char *mailbox,
    uint32_t uidvalidity, uint32_t last_uid)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "INSERT INTO position (mailbox, uidvalidity, "
	    "last_uid) VALUES (?, ?, ?) ON CONFLICT (mailbox) DO UPDATE SET "
	    "uidvalidity = excluded.uidvalidity, "
	    "last_uid = excluded.last_uid");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, last_uid);
	return (store_done(s, st));
}

/* Insert the message row; 1 inserted, 0 already there, -1 error. */
static int
store_insert_message(struct store *s, const struct store_entry *e,
    const char *status, int64_t *id)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "INSERT INTO messages (mailbox, uidvalidity, "
	    "uid, received, message_id, sender, subject, category, priority, "
	    "tags, rules, status, suppressed, created) VALUES (?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, e->mailbox);
	sqlite3_bind_int64(st, 2, e->uidvalidity);
	sqlite3_bind_int64(st, 3, e->uid);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)e->received);
	store_bind_text(st, 5, e->message_id);
	store_bind_text(st, 6, e->sender);
	store_bind_text(st, 7, e->subject);
	store_bind_text(st, 8, e->category);
	sqlite3_bind_int(st, 9, e->priority);
	store_bind_text(st, 10, e->tags != NULL ? e->tags : "");
	store_bind_text(st, 11, e->rules != NULL ? e->rules : "");
	store_bind_text(st, 12, status);
	store_bind_text(st, 13, e->suppressed);
	sqlite3_bind_int64(st, 14, (sqlite3_int64)time(NULL));
	if (store_done(s, st) == -1)
		return (-1);
	if (sqlite3_changes(s->db) == 0)
		return (0);
	*id = sqlite3_last_insert_rowid(s->db);
	return (1);
}

/* Queue the reply to message id, due at once. */
static int
store_insert_outbox(struct store *s, int64_t id,
    const struct store_outgoing *o)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "INSERT INTO outbox (message_id, rcpt, "
	    "envelope_from, template, subject, reply_message_id, data, "
	    "next_try) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, o->rcpt);
	store_bind_text(st, 3, o->envelope_from != NULL ?
	    o->envelope_from : "");
	store_bind_text(st, 4, o->template);
	store_bind_text(st, 5, o->subject);
	store_bind_text(st, 6, o->message_id);
	sqlite3_bind_blob64(st, 7, o->data != NULL ? o->data : "",
	    o->len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, 0);
	return (store_done(s, st));
}

/* Queue the crisis alert for message id; composed when it is sent. */
static int
store_insert_alert(struct store *s, int64_t id, const char *to,
    const char *from)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "INSERT INTO outbox (message_id, rcpt, "
	    "envelope_from, template, data, next_try, kind) VALUES (?, ?, ?, "
	    "'" STORE_KIND_ALERT "', x'', 0, '" STORE_KIND_ALERT "')");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, to);
	store_bind_text(st, 3, from != NULL ? from : "");
	return (store_done(s, st));
}

/*
 * Move the position forward to uid, never back; a row for another
 * UIDVALIDITY is left for store_set_position to replace.
 */
static int
store_advance(struct store *s, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "INSERT INTO position (mailbox, uidvalidity, "
	    "last_uid) VALUES (?1, ?2, ?3) ON CONFLICT (mailbox) DO UPDATE "
	    "SET last_uid = max(last_uid, excluded.last_uid) "
	    "WHERE uidvalidity = excluded.uidvalidity");
	if (st == NULL)
		return (-1);
	store_bind_message(st, mailbox, uidvalidity, uid);
	return (store_done(s, st));
}

/* Store verdict, pending reply and new position together, or nothing. */
int
store_record(struct store *s, const struct store_entry *e,
    const struct store_outgoing *out, char **cause)
{
	const char	*status;
	int64_t		 id = 0;
	int		 rc;

	if (e->mailbox == NULL || e->category == NULL ||
	    (out == NULL && e->status == NULL) ||
	    (out != NULL && (out->rcpt == NULL || out->template == NULL))) {
		*cause = xstrdup("store: incomplete entry");
		return (-1);
	}
	status = out != NULL ? STORE_PENDING : e->status;
	if (store_begin(s) == -1)
		goto fail;
	if ((rc = store_insert_message(s, e, status, &id)) == -1)
		goto fail;
	if (rc == 1 && out != NULL && store_insert_outbox(s, id, out) == -1)
		goto fail;
	if (rc == 1 && e->alert_to != NULL && store_insert_alert(s, id,
	    e->alert_to, e->alert_from) == -1)
		goto fail;
	if (store_advance(s, e->mailbox, e->uidvalidity, e->uid) == -1)
		goto fail;
	if (store_refetch_forget(s, e->mailbox, e->uidvalidity, e->uid) == -1)
		goto fail;
	if (store_commit(s) == -1)
		goto fail;
	return (0);

fail:
	*cause = xasprintf("%s: record: %s", s->path, sqlite3_errmsg(s->db));
	store_rollback(s);
	return (-1);
}

/* Look up the reply window for (sender, template), any case. */
int
store_replied_since(struct store *s, const char *sender,
    const char *template, time_t since)
{
	sqlite3_stmt	*st;
	int		 rc;

	/* A reply still in the outbox counts: it will go out. */
	st = store_prepare(s, "SELECT 1 FROM replies WHERE sender = "
	    "addr_hash(" STORE_SALT ", ?1) AND "
	    "template = ?2 AND sent_at >= ?3 UNION ALL SELECT 1 FROM outbox "
	    "WHERE rcpt = ?1 COLLATE NOCASE AND template = ?2 AND "
	    "status = 'pending' AND kind = 'reply' LIMIT 1");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, sender);
	store_bind_text(st, 2, template);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = 1;
		break;
	case SQLITE_DONE:
		rc = 0;
		break;
	default:
		store_warn(s, "replied");
		rc = -1;
		break;
	}
	sqlite3_finalize(st);
	return (rc);
}

/*
 * Count the replies the server accepted since a time (the hourly cap) and
 * the oldest of them (when the cap opens again). Pending replies do not
 * count: a reply the server never took has used no part of the cap.
 */
int
store_sent_since(struct store *s, time_t since, long *count, time_t *oldest)
{
	sqlite3_stmt	*st;
	int		 rc = -1;

	st = store_prepare(s, "SELECT count(*), min(sent_at) FROM replies "
	    "WHERE sent_at >= ?1");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*count = (long)sqlite3_column_int64(st, 0);
		*oldest = (time_t)sqlite3_column_int64(st, 1);
		rc = 0;
	} else
		store_warn(s, "replies");
	sqlite3_finalize(st);
	return (rc);
}

/* List the outbox rows due for sending, in queueing order. */
int
store_pending(struct store *s, time_t now, struct store_pending **pp,
    size_t *np)
{
	struct store_pending	*p = NULL, *r;
	sqlite3_stmt		*st;
	const void		*blob;
	size_t			 n = 0, len;
	int			 rc;

	*pp = NULL;
	*np = 0;
	/* An alert before the reply of the same message: it is one step. */
	st = store_prepare(s, "SELECT o.id, o.rcpt, o.envelope_from, "
	    "o.template, o.data, o.attempts, m.mailbox, m.uidvalidity, m.uid, "
	    "m.priority, o.kind = '" STORE_KIND_ALERT "', m.id, m.received, "
	    "m.status, m.suppressed, CASE WHEN m.moved = "
	    STORE_MOVE_DONE_STR " THEN m.folder END FROM outbox o JOIN "
	    "messages m ON "
	    "m.id = o.message_id WHERE o.status = 'pending' AND "
	    "o.claimed IS NULL AND o.next_try <= ? ORDER BY m.priority DESC, "
	    "m.id, o.kind = '" STORE_KIND_ALERT "' DESC, o.id");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		p = xreallocarray(p, n + 1, sizeof *p);
		r = &p[n++];
		memset(r, 0, sizeof *r);
		r->id = sqlite3_column_int64(st, 0);
		r->rcpt = store_col_text0(st, 1);
		r->envelope_from = store_col_text0(st, 2);
		r->template = store_col_text0(st, 3);
		blob = sqlite3_column_blob(st, 4);
		len = (size_t)sqlite3_column_bytes(st, 4);
		r->data = xmalloc(len + 1);
		if (len > 0)
			memcpy(r->data, blob, len);
		r->data[len] = '\0';
		r->len = len;
		r->attempts = (unsigned)sqlite3_column_int(st, 5);
		r->mailbox = store_col_text0(st, 6);
		r->uidvalidity = (uint32_t)sqlite3_column_int64(st, 7);
		r->uid = (uint32_t)sqlite3_column_int64(st, 8);
		r->priority = sqlite3_column_int(st, 9);
		r->is_alert = sqlite3_column_int(st, 10);
		r->message = sqlite3_column_int64(st, 11);
		r->received = (time_t)sqlite3_column_int64(st, 12);
		r->status = store_col_text0(st, 13);
		r->suppressed = store_col_text(st, 14);
		r->folder = store_col_text(st, 15);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_warn(s, "pending");
		store_pending_free(p, n);
		return (-1);
	}
	*pp = p;
	*np = n;
	return (0);
}

/* Free what store_pending returned. */
void
store_pending_free(struct store_pending *p, size_t n)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(p[i].rcpt);
		free(p[i].envelope_from);
		free(p[i].template);
		free(p[i].data);
		free(p[i].mailbox);
		free(p[i].status);
		free(p[i].suppressed);
		free(p[i].folder);
	}
	free(p);
}

/*
 * Run one statement inside an open transaction, binding ?1 the outbox id,
 * ?2 a time and ?3 a text where the statement has them.
 */
static int
store_step_id(struct store *s, const char *sql, int64_t id, time_t t,
    const char *text)
{
	sqlite3_stmt	*st;

	if ((st = store_prepare(s, sql)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)t);
	if (sqlite3_bind_parameter_count(st) >= 3)
		store_bind_text(st, 3, text);
	return (store_done(s, st));
}

/* Record an accepted reply: outbox, message status and window history. */
int
store_mark_sent(struct store *s, int64_t id, time_t now)
{
	if (store_begin(s) == -1)
		return (-1);
	if (store_step_id(s, "UPDATE outbox SET status = 'sent', "
	    "sent_at = ?2, error = NULL, claimed = NULL WHERE id = ?1 AND "
	    "status = 'pending'",
	    id, now, NULL) == -1)
		goto fail;
	if (sqlite3_changes(s->db) == 0) {
		/* Unknown, or already marked: nothing to record twice. */
		store_rollback(s);
		return (0);
	}
	/* A crisis alert is no reply: the message and history stay. */
	if (store_step_id(s, "UPDATE messages SET status = 'replied', "
	    "error = NULL WHERE id = (SELECT message_id FROM outbox "
	    "WHERE id = ?1 AND kind = 'reply')", id, 0, NULL) == -1)
		goto fail;
	if (store_step_id(s, "INSERT INTO replies (sender, template, "
	    "sent_at) SELECT addr_hash(" STORE_SALT ", rcpt), template, ?2 "
	    "FROM outbox WHERE id = ?1 AND kind = 'reply'", id, now,
	    NULL) == -1)
		goto fail;
	return (store_commit(s));

fail:
	store_rollback(s);
	return (-1);
}

/*
 * Set the next attempt and release the claim; the row stays pending. A
 * charged failure counts as an attempt (the server failed this reply);
 * an uncharged deferral (the hourly cap) does not.
 */
int
store_mark_retry(struct store *s, int64_t id, time_t next,
    const char *error, int charge)
{
	if (store_begin(s) == -1)
		return (-1);
	if (store_step_id(s, charge ? "UPDATE outbox SET attempts = "
	    "attempts + 1, next_try = ?2, error = ?3, claimed = NULL WHERE "
	    "id = ?1 AND status = 'pending'" : "UPDATE outbox SET next_try = "
	    "?2, error = ?3, claimed = NULL WHERE id = ?1 AND "
	    "status = 'pending'", id, next, error) == -1)
		goto fail;
	if (sqlite3_changes(s->db) == 0) {
		store_rollback(s);
		return (0);
	}
	if (store_step_id(s, "UPDATE messages SET error = ?3 WHERE id = "
	    "(SELECT message_id FROM outbox WHERE id = ?1 AND kind = 'reply')",
	    id, 0, error) == -1)
		goto fail;
	return (store_commit(s));

fail:
	store_rollback(s);
	return (-1);
}

/*
 * Claim a due row before sending it, in one transaction, so that nothing
 * else sends it meanwhile. 1 claimed, 0 gone or claimed already, -1 error.
 */
int
store_claim(struct store *s, int64_t id)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "UPDATE outbox SET claimed = ?2 WHERE id = ?1 "
	    "AND status = 'pending' AND claimed IS NULL");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)getpid());
	if (store_done(s, st) == -1)
		return (-1);
	return (sqlite3_changes(s->db) == 1);
}

/*
 * Release the claims a dead process left (called while holding the
 * instance lock, so no claim can be live): those replies may or may not
 * have reached the server, and are sent again (at least once; their
 * Message-ID lets a receiver drop a duplicate). Returns the count or -1.
 */
long
store_release_claims(struct store *s)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "UPDATE outbox SET claimed = NULL WHERE "
	    "claimed IS NOT NULL AND status = 'pending'");
	if (st == NULL)
		return (-1);
	if (store_done(s, st) == -1)
		return (-1);
	return ((long)sqlite3_changes(s->db));
}

/* Give up on a reply: outbox and message failed with the cause. */
int
store_mark_failed(struct store *s, int64_t id, const char *error)
{
	if (store_begin(s) == -1)
		return (-1);
	if (store_step_id(s, "UPDATE outbox SET status = 'failed', "
	    "attempts = attempts + 1, error = ?3, claimed = NULL WHERE "
	    "id = ?1 AND "
	    "status = 'pending'", id, 0, error) == -1)
		goto fail;
	if (sqlite3_changes(s->db) == 0) {
		store_rollback(s);
		return (0);
	}
	if (store_step_id(s, "UPDATE messages SET status = 'failed', "
	    "error = ?3 WHERE id = (SELECT message_id FROM outbox "
	    "WHERE id = ?1 AND kind = 'reply')", id, 0, error) == -1)
		goto fail;
	return (store_commit(s));

fail:
	store_rollback(s);
	return (-1);
}

/* List the messages whose IMAP keyword is not set yet, by UID. */
int
store_unfiled(struct store *s, const char *mailbox, uint32_t uidvalidity,
    struct store_unfiled **up, size_t *np)
{
	struct store_unfiled	*u = NULL;
	sqlite3_stmt		*st;
	size_t			 n = 0;
	int			 rc;

	*up = NULL;
	*np = 0;
	st = store_prepare(s, "SELECT uid, category, tags FROM messages WHERE "
	    "mailbox = ? AND uidvalidity = ? AND filed = 0 ORDER BY uid");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		u = xreallocarray(u, n + 1, sizeof *u);
		u[n].uid = (uint32_t)sqlite3_column_int64(st, 0);
		u[n].category = store_col_text0(st, 1);
		u[n].tags = store_col_text0(st, 2);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_warn(s, "unfiled");
		store_unfiled_free(u, n);
		return (-1);
	}
	*up = u;
	*np = n;
	return (0);
}

/* Free what store_unfiled returned. */
void
store_unfiled_free(struct store_unfiled *u, size_t n)
{
	size_t	i;

	if (u == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(u[i].category);
		free(u[i].tags);
	}
	free(u);
}

/* Note that the keyword of one message is set on the server. */
int
store_mark_filed(struct store *s, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "UPDATE messages SET filed = 1 WHERE "
	    "mailbox = ? AND uidvalidity = ? AND uid = ?");
	if (st == NULL)
		return (-1);
	store_bind_message(st, mailbox, uidvalidity, uid);
	return (store_done(s, st));
}

/* List messages for `triaged queue`, crisis first and newest first. */
int
store_queue(struct store *s, const char *category, const char *status,
    time_t since, struct store_row **rp, size_t *np)
{
	sqlite3_stmt	*st;

	*rp = NULL;
	*np = 0;
	st = store_prepare(s, "SELECT " STORE_ROW_COLUMNS " FROM messages "
	    "WHERE (?1 IS NULL OR category = ?1) AND "
	    "(?2 IS NULL OR " STORE_SHOWN_STATUS " = ?2) AND received >= ?3 "
	    "ORDER BY priority DESC, received DESC, id DESC");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, category);
	store_bind_text(st, 2, status);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
	return (store_rows_read(s, st, rp, np));
}

/* The rows of a statement that selects STORE_ROW_COLUMNS. */
static int
store_rows_read(struct store *s, sqlite3_stmt *st, struct store_row **rp,
    size_t *np)
{
	struct store_row	*r = NULL, *row;
	size_t			 n = 0;
	int			 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = xreallocarray(r, n + 1, sizeof *r);
		row = &r[n++];
		row->id = sqlite3_column_int64(st, 0);
		row->received = (time_t)sqlite3_column_int64(st, 1);
		row->from = store_col_text0(st, 2);
		row->subject = store_col_text0(st, 3);
		row->category = store_col_text0(st, 4);
		row->tags = store_col_text0(st, 5);
		row->status = store_col_text0(st, 6);
		row->suppressed = store_col_text(st, 7);
		row->error = store_col_text(st, 8);
		row->erased = sqlite3_column_int(st, 9);
		row->handled_at = (time_t)sqlite3_column_int64(st, 10);
		row->handled_how = store_col_text(st, 11);
		row->folder = store_col_text(st, 12);
		row->folder_uid = (uint32_t)sqlite3_column_int64(st, 13);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_warn(s, "queue");
		store_rows_free(r, n);
		return (-1);
	}
	*rp = r;
	*np = n;
	return (0);
}

/* Inquiries waiting for the therapist (store.h). */
int
store_waiting(struct store *s, time_t before, int max, struct store_row **rp,
    size_t *np)
{
	sqlite3_stmt	*st;

	*rp = NULL;
	*np = 0;
	st = store_prepare(s, "SELECT " STORE_ROW_COLUMNS " FROM messages "
	    "WHERE handled_at IS NULL AND priority > 0 AND received < ?1 "
	    "ORDER BY priority DESC, received, id LIMIT ?2");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)before);
	sqlite3_bind_int(st, 2, max);
	return (store_rows_read(s, st, rp, np));
}

/* What arrived since a time, per category, and what failed (store.h). */
int
store_since(struct store *s, time_t since, struct store_since *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(out, 0, sizeof *out);
	st = store_prepare(s, "SELECT category, count(*), sum(status = "
	    "'failed') FROM messages WHERE received >= ?1 GROUP BY category "
	    "ORDER BY max(priority) DESC");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    out->n < STORE_SINCE_MAX) {
		out->category[out->n] = store_col_text0(st, 0);
		out->count[out->n] = (long)sqlite3_column_int64(st, 1);
		out->failed += (long)sqlite3_column_int64(st, 2);
		out->total += out->count[out->n];
		out->n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_warn(s, "since");
		store_since_free(out);
		return (-1);
	}
	return (0);
}

void
store_since_free(struct store_since *out)
{
	size_t	i;

	for (i = 0; i < out->n; i++)
		free(out->category[i]);
	memset(out, 0, sizeof *out);
}

/* Free what store_queue returned. */
void
store_rows_free(struct store_row *r, size_t n)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(r[i].from);
		free(r[i].subject);
		free(r[i].category);
		free(r[i].tags);
		free(r[i].status);
		free(r[i].suppressed);
		free(r[i].error);
		free(r[i].handled_how);
		free(r[i].folder);
	}
	free(r);
}

/* One queue item with its rules and its reply (store.h). */
int
store_item_get(struct store *s, int64_t id, struct store_item *it)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(it, 0, sizeof *it);
	st = store_prepare(s, "SELECT m.id, m.received, m.sender, m.subject, "
	    "m.category, m.tags, CASE WHEN m.handled_at IS NOT NULL THEN "
	    "'handled' ELSE m.status END, m.suppressed, m.error, m.erased, "
	    "m.rules, m.mailbox, m.uid, o.status, o.template, o.attempts, "
	    "o.next_try, o.sent_at, (SELECT a.status FROM outbox a WHERE "
	    "a.message_id = m.id AND a.kind = '" STORE_KIND_ALERT "' LIMIT 1), "
	    "m.handled_at, m.handled_how, m.status, m.uidvalidity, "
	    "CASE WHEN m.moved = " STORE_MOVE_DONE_STR " THEN m.folder END, "
	    "CASE WHEN m.moved = " STORE_MOVE_DONE_STR " THEN m.folder_uid "
	    "END FROM messages m LEFT JOIN outbox o ON o.message_id = m.id AND "
	    "o.kind = 'reply' WHERE m.id = ?1 ORDER BY o.id DESC LIMIT 1");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	switch (rc = sqlite3_step(st)) {
	case SQLITE_ROW:
		it->row.id = sqlite3_column_int64(st, 0);
		it->row.received = (time_t)sqlite3_column_int64(st, 1);
		it->row.from = store_col_text0(st, 2);
		it->row.subject = store_col_text0(st, 3);
		it->row.category = store_col_text0(st, 4);
		it->row.tags = store_col_text0(st, 5);
		it->row.status = store_col_text0(st, 6);
		it->row.suppressed = store_col_text(st, 7);
		it->row.error = store_col_text(st, 8);
		it->row.erased = sqlite3_column_int(st, 9);
		it->rules = store_col_text0(st, 10);
		it->mailbox = store_col_text0(st, 11);
		it->uid = sqlite3_column_int64(st, 12);
		it->reply_status = store_col_text(st, 13);
		it->reply_template = store_col_text(st, 14);
		it->reply_attempts = (long)sqlite3_column_int64(st, 15);
		it->reply_next_try = (time_t)sqlite3_column_int64(st, 16);
		it->reply_sent_at = (time_t)sqlite3_column_int64(st, 17);
		it->alert_status = store_col_text(st, 18);
		it->row.handled_at = (time_t)sqlite3_column_int64(st, 19);
		it->row.handled_how = store_col_text(st, 20);
		it->reply_state = store_col_text0(st, 21);
		it->uidvalidity = (uint32_t)sqlite3_column_int64(st, 22);
		it->row.folder = store_col_text(st, 23);
		it->row.folder_uid = (uint32_t)sqlite3_column_int64(st, 24);
		rc = 1;
		break;
	case SQLITE_DONE:
		rc = 0;
		break;
	default:
		store_warn(s, "queue item");
		rc = -1;
		break;
	}
	sqlite3_finalize(st);
	return (rc);
}

void
store_item_free(struct store_item *it)
{
	free(it->row.from);
	free(it->row.subject);
	free(it->row.category);
	free(it->row.tags);
	free(it->row.status);
	free(it->row.suppressed);
	free(it->row.error);
	free(it->rules);
	free(it->mailbox);
	free(it->reply_status);
	free(it->reply_template);
	free(it->alert_status);
	free(it->row.handled_how);
	free(it->row.folder);
	free(it->reply_state);
	memset(it, 0, sizeof *it);
}

/* Messages in mailbox not handled yet, received since (store.h). */
int
store_open_items(struct store *s, const char *mailbox, uint32_t uidvalidity,
    time_t since, struct store_open **op, size_t *np)
{
	sqlite3_stmt		*st;
	struct store_open	*o = NULL;
	size_t			 k = 0;
	int			 rc;

	*op = NULL;
	*np = 0;
	st = store_prepare(s, "SELECT uid, category, CASE WHEN moved = "
	    STORE_MOVE_DONE_STR " THEN folder END, CASE WHEN moved = "
	    STORE_MOVE_DONE_STR " THEN coalesce(folder_uid, 0) ELSE 0 END, "
	    "message_id FROM messages WHERE mailbox = ?1 AND uidvalidity = ?2 AND "
	    "handled_at IS NULL AND received >= ?3 ORDER BY uid LIMIT "
	    STORE_OPEN_MAX_STR);
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)uidvalidity);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = xreallocarray(o, k + 1, sizeof *o);
		o[k].uid = (uint32_t)sqlite3_column_int64(st, 0);
		o[k].category = store_col_text0(st, 1);
		o[k].folder = store_col_text(st, 2);
		o[k].folder_uid = (uint32_t)sqlite3_column_int64(st, 3);
		o[k].message_id = store_col_text(st, 4);
		k++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_warn(s, "open items");
		store_open_free(o, k);
		return (-1);
	}
	*op = o;
	*np = k;
	return (0);
}

void
store_open_free(struct store_open *o, size_t n)
{
	size_t	i;

	if (o == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(o[i].category);
		free(o[i].folder);
		free(o[i].message_id);
	}
	free(o);
}

/* Handled, once: the first way it was handled stays. */
int
store_mark_handled(struct store *s, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, const char *how, time_t now)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "UPDATE messages SET handled_at = ?4, "
	    "handled_how = ?5 WHERE mailbox = ?1 AND uidvalidity = ?2 AND "
	    "uid = ?3 AND handled_at IS NULL");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)uidvalidity);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)uid);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	store_bind_text(st, 5, how);
	return (store_done(s, st));
}

/* A correction (store.h): 1 recorded, 0 the category is the same, -1. */
int
store_correct(struct store *s, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, const char *category, int priority, time_t now)
{
	sqlite3_stmt	*st;
	int64_t		 id;
	int		 rc;

	if (store_begin(s) == -1)
		return (-1);
	st = store_prepare(s, "SELECT id, category FROM messages WHERE "
	    "mailbox = ?1 AND uidvalidity = ?2 AND uid = ?3");
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)uidvalidity);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)uid);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW || strcmp((const char *)
	    sqlite3_column_text(st, 1), category) == 0) {
		sqlite3_finalize(st);
		store_rollback(s);
		return (rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1);
	}
	id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = store_prepare(s, "INSERT INTO corrections (message_id, "
	    "old_category, new_category, at) SELECT id, category, ?2, ?3 "
	    "FROM messages WHERE id = ?1");
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	store_bind_text(st, 2, category);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	if (store_done(s, st) == -1)
		goto fail;
	st = store_prepare(s, "UPDATE messages SET category = ?2, "
	    "priority = ?3 WHERE id = ?1");
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	store_bind_text(st, 2, category);
	sqlite3_bind_int(st, 3, priority);
	if (store_done(s, st) == -1 || store_commit(s) == -1)
		goto fail;
	return (1);

fail:
	store_rollback(s);
	return (-1);
}

/* The corrections since a time, newest first (store.h). */
int
store_corrections(struct store *s, time_t since, struct store_correction **cp,
    size_t *np)
{
	struct store_correction	*c = NULL;
	sqlite3_stmt		*st;
	size_t			 n = 0;
	int			 rc;

	*cp = NULL;
	*np = 0;
	st = store_prepare(s, "SELECT message_id, old_category, new_category, "
	    "at FROM corrections WHERE at >= ?1 ORDER BY at DESC, id DESC");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c = xreallocarray(c, n + 1, sizeof *c);
		c[n].message = sqlite3_column_int64(st, 0);
		c[n].from = store_col_text0(st, 1);
		c[n].to = store_col_text0(st, 2);
		c[n].at = (time_t)sqlite3_column_int64(st, 3);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_warn(s, "corrections");
		store_corrections_free(c, n);
		return (-1);
	}
	*cp = c;
	*np = n;
	return (0);
}

void
store_corrections_free(struct store_correction *c, size_t n)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(c[i].from);
		free(c[i].to);
	}
	free(c);
}

/* `queue done ID`: 1 marked, 0 no such item or handled already, -1. */
int
store_mark_handled_id(struct store *s, int64_t id, const char *how,
    time_t now)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "UPDATE messages SET handled_at = ?2, "
	    "handled_how = ?3 WHERE id = ?1 AND handled_at IS NULL");
	if (st == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	store_bind_text(st, 3, how);
	if (store_done(s, st) == -1)
		return (-1);
	return (sqlite3_changes(s->db) > 0);
}

/* A late reply to message id (store.h): once. */
int
store_add_reply(struct store *s, int64_t id, const struct store_outgoing *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (store_begin(s) == -1)
		return (-1);
	st = store_prepare(s, "SELECT 1 FROM outbox WHERE message_id = ?1 AND "
	    "kind = 'reply'");
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW) {
		store_rollback(s);
		return (0);
	}
	if (rc != SQLITE_DONE || store_insert_outbox(s, id, out) == -1 ||
	    store_step_id(s, "UPDATE messages SET status = 'pending', "
	    "suppressed = NULL, error = NULL WHERE id = ?1", id, 0,
	    NULL) == -1)
		goto fail;
	return (store_commit(s) == 0 ? 1 : -1);

fail:
	store_rollback(s);
	return (-1);
}

/* Look up what the Sent folder said about sender since a time. */
int
store_known_get(struct store *s, const char *sender, time_t since,
    int *known)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_prepare(s, "SELECT known FROM known_cache WHERE "
	    "sender = ?1 AND checked_at >= ?2");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, sender);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*known = sqlite3_column_int(st, 0) != 0;
		rc = 1;
		break;
	case SQLITE_DONE:
		rc = 0;
		break;
	default:
		store_warn(s, "known");
		rc = -1;
		break;
	}
	sqlite3_finalize(st);
	return (rc);
}

/* Remember (or refresh) what the Sent folder said about sender. */
int
store_known_set(struct store *s, const char *sender, int known, time_t now)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "INSERT INTO known_cache (sender, known, "
	    "checked_at) VALUES (?1, ?2, ?3) ON CONFLICT (sender) DO UPDATE "
	    "SET known = excluded.known, checked_at = excluded.checked_at");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, sender);
	sqlite3_bind_int(st, 2, known != 0);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	return (store_done(s, st));
}

/*
 * Make erased content leave the files: with secure_delete the database
 * pages are zeroed; the WAL still holds the old page images until it is
 * checkpointed and truncated. A reader in the way (queue) only delays it
 * to the next call: a warning, not a failure.
 */
static void
store_truncate_wal(struct store *s)
{
	sqlite3_stmt	*st;

	if ((st = store_prepare(s, "PRAGMA wal_checkpoint(TRUNCATE)")) ==
	    NULL)
		return;
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 0)
		log_warnx("%s: the WAL could not be truncated now (a reader "
		    "is active); erased data leaves it on a later pass",
		    s->path);
	sqlite3_finalize(st);
}

long
store_retention(struct store *s, time_t cutoff)
{
	long	n;

	if (store_begin(s) == -1)
		return (-1);
	if (store_step_id(s, "UPDATE outbox SET rcpt = '', subject = NULL, "
	    "reply_message_id = NULL, data = X'', error = NULL WHERE "
	    "status != 'pending' AND rcpt != '' AND message_id IN (SELECT id "
	    "FROM messages WHERE erased = 0 AND received < ?1)",
	    (int64_t)cutoff, 0, NULL) == -1)
		goto fail;
	if (store_step_id(s, "UPDATE messages SET sender = NULL, subject = "
	    "NULL, message_id = NULL, error = NULL, erased = 1 WHERE "
	    "erased = 0 AND received < ?1 AND NOT EXISTS (SELECT 1 FROM "
	    "outbox WHERE outbox.message_id = messages.id AND outbox.status "
	    "= 'pending')", (int64_t)cutoff, 0, NULL) == -1)
		goto fail;
	n = sqlite3_changes(s->db);
	if (store_step_id(s, "DELETE FROM known_cache WHERE checked_at < ?1",
	    (int64_t)cutoff, 0, NULL) == -1)
		goto fail;
	if (store_commit(s) == -1)
		return (-1);
	if (n > 0)
		store_truncate_wal(s);
	return (n);

fail:
	store_rollback(s);
	return (-1);
}

/* Run sql (the address as ?1, if any) and add its changes to *count. */
static int
store_forget_step(struct store *s, const char *sql, const char *addr,
    long *count)
{
	sqlite3_stmt	*st;

	if ((st = store_prepare(s, sql)) == NULL)
		return (-1);
	if (addr != NULL)
		store_bind_text(st, 1, addr);
	if (store_done(s, st) == -1)
		return (-1);
	*count += sqlite3_changes(s->db);
	return (0);
}

int
store_forget(struct store *s, const char *addr, struct store_forgotten *f,
    char **cause)
{
	long	unused = 0;

	memset(f, 0, sizeof *f);
	if (store_begin(s) == -1)
		goto fail;
	/*
	 * The replies to the address and those answering its messages (a
	 * web-form relay's message is from the form, its reply to the
	 * person); then those messages, then the relay messages whose only
	 * trace of the person was the reply.
	 */
	if (store_forget_step(s, "CREATE TEMP TABLE forget_ids AS SELECT id "
	    "FROM messages WHERE sender = ?1 COLLATE NOCASE UNION SELECT "
	    "message_id FROM outbox WHERE rcpt = ?1 COLLATE NOCASE AND "
	    "kind = 'reply'", addr, &unused) == -1 ||
	    store_forget_step(s, "DELETE FROM outbox WHERE message_id IN "
	    "(SELECT id FROM temp.forget_ids) OR (rcpt = ?1 COLLATE NOCASE "
	    "AND kind = 'reply')", addr, &f->replies) == -1 ||
	    store_forget_step(s, "DELETE FROM messages WHERE id IN (SELECT id "
	    "FROM temp.forget_ids)", NULL, &f->messages) == -1 ||
	    store_forget_step(s, "DELETE FROM replies WHERE sender = "
	    "addr_hash(" STORE_SALT ", ?1)", addr, &f->window) == -1 ||
	    store_forget_step(s, "DELETE FROM known_cache WHERE sender = ?1 "
	    "COLLATE NOCASE", addr, &f->known) == -1 ||
	    store_exec(s, "DROP TABLE temp.forget_ids") == -1)
		goto fail;
	if (store_commit(s) == -1)
		goto fail;
	store_truncate_wal(s);
	return (0);

fail:
	*cause = xasprintf("%s: forget: %s", s->path, sqlite3_errmsg(s->db));
	store_rollback(s);
	return (-1);
}

int
store_health_set(struct store *s, const char *key, int64_t value)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "INSERT INTO health (key, value) VALUES (?1, "
	    "?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, value);
	return (store_done(s, st));
}

int64_t
store_health_get(struct store *s, const char *key)
{
	sqlite3_stmt	*st;
	int64_t		 v = 0;

	if ((st = store_prepare(s, "SELECT value FROM health WHERE key = "
	    "?1")) == NULL)
		return (0);
	store_bind_text(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (v);
}

int
store_problem_fail(struct store *s, const char *kind, time_t now,
    const char *error, struct store_problem *pr)
{
	sqlite3_stmt	*st;

	/*
	 * Failing again before the recovery mail went out is the same
	 * outage: its start and its alert stay.
	 */
	st = store_prepare(s, "INSERT INTO problems (kind, since, last_at, "
	    "error) VALUES (?1, ?2, ?2, ?3) ON CONFLICT (kind) DO UPDATE SET "
	    "last_at = ?2, error = ?3, recovered_at = NULL");
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, kind);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	store_bind_text(st, 3, error);
	if (store_done(s, st) == -1)
		return (-1);
	return (store_problem_get(s, kind, pr) == 1 ? 0 : -1);
}

int
store_problem_get(struct store *s, const char *kind, struct store_problem *pr)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(pr, 0, sizeof *pr);
	if ((st = store_prepare(s, "SELECT since, last_at, error, "
	    "coalesce(alerted_at, 0), coalesce(recovered_at, 0) FROM "
	    "problems WHERE kind = ?1")) == NULL)
		return (-1);
	store_bind_text(st, 1, kind);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		pr->since = (time_t)sqlite3_column_int64(st, 0);
		pr->last_at = (time_t)sqlite3_column_int64(st, 1);
		snprintf(pr->error, sizeof pr->error, "%s",
		    (const char *)sqlite3_column_text(st, 2));
		pr->alerted_at = (time_t)sqlite3_column_int64(st, 3);
		pr->recovered_at = (time_t)sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1);
}

int
store_problem_mark(struct store *s, const char *kind, const char *column,
    time_t at)
{
	const char	*sql;

	if (strcmp(column, "alerted_at") == 0)
		sql = "UPDATE problems SET alerted_at = ?2 WHERE kind = ?1";
	else if (strcmp(column, "recovered_at") == 0)
		sql = "UPDATE problems SET recovered_at = ?2 WHERE kind = ?1 "
		    "AND recovered_at IS NULL";
	else
		return (-1);
	return (store_step_kind(s, sql, kind, at));
}

int
store_problem_clear(struct store *s, const char *kind)
{
	return (store_step_kind(s, "DELETE FROM problems WHERE kind = ?1",
	    kind, 0));
}

/* A statement on one problem kind (?1) with a time (?2, if used). */
static int
store_step_kind(struct store *s, const char *sql, const char *kind,
    time_t at)
{
	sqlite3_stmt	*st;

	if ((st = store_prepare(s, sql)) == NULL)
		return (-1);
	store_bind_text(st, 1, kind);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
	return (store_done(s, st));
}

int
store_outbox_counts(struct store *s, struct store_outbox_counts *c,
    time_t failed_since)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(c, 0, sizeof *c);
	if ((st = store_prepare(s, "SELECT (SELECT count(*) FROM outbox "
	    "WHERE status = 'pending'), (SELECT coalesce(min(m.received), 0) "
	    "FROM outbox o JOIN messages m ON m.id = o.message_id WHERE "
	    "o.status = 'pending'), (SELECT count(*) FROM outbox o JOIN "
	    "messages m ON m.id = o.message_id WHERE o.status = 'failed' AND "
	    "m.received >= ?1), (SELECT coalesce(max(sent_at), 0) FROM "
	    "replies), (SELECT count(*) FROM messages)")) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)failed_since);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->pending = sqlite3_column_int64(st, 0);
		c->oldest_pending = (time_t)sqlite3_column_int64(st, 1);
		c->failed = sqlite3_column_int64(st, 2);
		c->last_sent = (time_t)sqlite3_column_int64(st, 3);
		c->messages = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW ? 0 : -1);
}

int
store_next_try(struct store *s, time_t *due)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "SELECT min(next_try) FROM outbox WHERE "
	    "status = 'pending'")) == NULL)
		return (-1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*due = (time_t)sqlite3_column_int64(st, 0);
		rc = 1;
	} else
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return (rc);
}

/*
 * Filing into folders: the messages that may still have to move (their
 * keywords set, not handled, received since since), by UID.
 */
int
store_to_move(struct store *s, const char *mailbox, uint32_t uidvalidity,
    time_t since, struct store_move **mp, size_t *np)
{
	struct store_move	*m = NULL;
	sqlite3_stmt		*st;
	size_t			 n = 0;
	int			 rc;

	*mp = NULL;
	*np = 0;
	st = store_prepare(s, "SELECT uid, category, message_id, moved, folder "
	    "FROM messages WHERE mailbox = ?1 AND uidvalidity = ?2 AND "
	    "filed = 1 AND moved IN (0, 1) AND handled_at IS NULL AND "
	    "received >= ?3 ORDER BY uid LIMIT " STORE_OPEN_MAX_STR);
	if (st == NULL)
		return (-1);
	store_bind_text(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)uidvalidity);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		m = xreallocarray(m, n + 1, sizeof *m);
		m[n].uid = (uint32_t)sqlite3_column_int64(st, 0);
		m[n].category = store_col_text0(st, 1);
		m[n].message_id = store_col_text(st, 2);
		m[n].begun = sqlite3_column_int(st, 3) == STORE_MOVE_BEGUN;
		m[n].folder = store_col_text(st, 4);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_warn(s, "messages to move");
		store_move_free(m, n);
		return (-1);
	}
	*mp = m;
	*np = n;
	return (0);
}

void
store_move_free(struct store_move *m, size_t n)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(m[i].category);
		free(m[i].message_id);
		free(m[i].folder);
	}
	free(m);
}

/*
 * Set the filing state of the UIDs in one transaction: STORE_MOVE_BEGUN
 * with the folder before the server is asked (a crash then leaves a note
 * to look for a copy), STORE_MOVE_STAYS for mail that stays.
 */
int
store_move_mark(struct store *s, const char *mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, int state, const char *folder)
{
	sqlite3_stmt	*st;
	size_t		 i;

	if (store_begin(s) == -1)
		return (-1);
	/* One statement for all the UIDs, stepped and reset for each. */
	if ((st = store_prepare(s, "UPDATE messages SET moved = ?4, "
	    "folder = ?5 WHERE mailbox = ?1 AND uidvalidity = ?2 AND "
	    "uid = ?3")) == NULL)
		goto fail;
	sqlite3_bind_int(st, 4, state);
	store_bind_text(st, 5, folder);
	for (i = 0; i < n; i++) {
		store_bind_message(st, mailbox, uidvalidity, uids[i]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_warn(s, "move mark");
			sqlite3_finalize(st);
			goto fail;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return (store_commit(s));

fail:
	store_rollback(s);
	return (-1);
}

/* The message is in its folder, as folder_uid there (0: not known). */
int
store_move_done(struct store *s, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, uint32_t folder_uid)
{
	sqlite3_stmt	*st;

	st = store_prepare(s, "UPDATE messages SET moved = "
	    STORE_MOVE_DONE_STR ", folder_uid = nullif(?4, 0) WHERE "
	    "mailbox = ?1 AND uidvalidity = ?2 AND uid = ?3");
	if (st == NULL)
		return (-1);
	store_bind_message(st, mailbox, uidvalidity, uid);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)folder_uid);
	return (store_done(s, st));
}
