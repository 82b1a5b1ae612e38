/*
 * Filing into folders ([queue] file_into = Inquiries/%c): after the
 * verdict and the reply are recorded and the keywords set, each message
 * moves to its category's folder, with UID MOVE (RFC 6851) or, without
 * it, UID COPY, \Deleted and UID EXPUNGE of that UID alone (UIDPLUS),
 * never a plain EXPUNGE. The state notes a move before asking the server
 * (messages.moved = 1, with the folder), so after a crash the next pass
 * looks for the copy by Message-ID before moving again: no duplicate
 * either way. Folder names come from the configuration and the category
 * names only, never from mail.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "folders.h"
#include "imap.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

/* How far back unfiled mail still moves, in days. */
#define FOLDERS_DAYS		30
#define FOLDERS_NOISE		"not-inquiry"

/* "existing-client" as a folder: "Existing client". */
static void
folders_display(struct buf *b, const char *category)
{
	const char	*p;

	for (p = category; *p != '\0'; p++) {
		if (*p == '-' || *p == '_')
			buf_addch(b, ' ');
		else if (p == category)
			buf_addch(b, (char)toupper((unsigned char)*p));
		else
			buf_addch(b, *p);
	}
}

char *
folders_name(const struct conf *conf, const char *category)
{
	const char	*p = conf->queue.file_into;
	struct buf	 b;

	if (p == NULL || strcmp(category, PIPELINE_UNREADABLE) == 0 ||
	    (strcmp(category, FOLDERS_NOISE) == 0 && !conf->queue.file_noise))
		return (NULL);
	buf_init(&b, 1024);
	for (; *p != '\0'; p++) {
		if (*p == '%' && p[1] == 'c') {
			folders_display(&b, category);
			p++;
		} else if (*p == '%' && p[1] == '%') {
			buf_addch(&b, '%');
			p++;
		} else
			buf_addch(&b, *p);
	}
	return (buf_detach(&b, NULL));
}

/* Note each message in its folder, with its UID there when known. */
static void
folders_done(struct pipeline *p, const char *mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, const struct imap_moved *map,
    size_t nmap, const char *folder)
{
	size_t		i, j;
	uint32_t	dst;

	for (i = 0; i < n; i++) {
		for (dst = 0, j = 0; j < nmap; j++)
			if (map[j].src == uids[i])
				dst = map[j].dst;
		if (store_move_done(p->store, mailbox, uidvalidity, uids[i],
		    dst) == -1)
			log_warnx("%s: uid %u: cannot record its move to %s",
			    mailbox, uids[i], folder);
	}
}

/*
 * Move uids into folder: create it when missing, note the move, ask the
 * server, and note where each went. -1 only for a broken session.
 */
static int
folders_move(struct pipeline *p, const char *mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n, const char *folder, char **cause)
{
	struct imap_moved	*map = NULL;
	size_t			 nmap = 0;
	uint32_t		 validity;
	int			 r;

	if (imap_folder_ensure(p->imap, folder, cause) == -1)
		goto fail;
	if (store_move_mark(p->store, mailbox, uidvalidity, uids, n,
	    STORE_MOVE_BEGUN, folder) == -1) {
		log_warnx("%s: cannot note a move to %s; it waits",
		    mailbox, folder);
		return (0);
	}
	if ((r = imap_move_uids(p->imap, uids, n, folder, &validity, &map,
	    &nmap, cause)) == -1)
		goto fail;
	/* Copied: the originals go now, by UID only. */
	if (r == 0 && imap_expunge_uids(p->imap, uids, n, cause) == -1) {
		free(map);
		goto fail;
	}
	folders_done(p, mailbox, uidvalidity, uids, n, map, nmap, folder);
	log_info("%s: %zu message%s filed into %s (%s)", mailbox, n,
	    n == 1 ? "" : "s", folder, r ? "UID MOVE" :
	    "UID COPY, then UID EXPUNGE of those alone");
	free(map);
	return (0);

fail:
	if (!imap_alive(p->imap))
		return (-1);
	log_warnx("%s: cannot file into %s (tried again on the next pass): "
	    "%s", mailbox, folder, *cause);
	free(*cause);
	*cause = NULL;
	return (0);
}

/*
 * Moves a crash interrupted: is the copy in the folder already? Found
 * ones get dst (and keep[i] = 0: no new move); the mailbox is selected
 * again by the caller. -1 only for a broken session.
 */
static int
folders_recover(struct pipeline *p, const char *mailbox,
    struct store_move *m, size_t n, uint32_t *dst, int *found, char **cause)
{
	size_t	i;
	int	r;

	for (i = 0; i < n; i++) {
		found[i] = 0;
		if (!m[i].begun || m[i].folder == NULL)
			continue;
		r = imap_folder_find(p->imap, m[i].folder, m[i].message_id,
		    &dst[i], cause);
		if (r == -1) {
			if (!imap_alive(p->imap))
				return (-1);
			/* The folder may be gone: move again. */
			free(*cause);
			*cause = NULL;
			continue;
		}
		found[i] = r;
		if (r)
			log_info("%s: uid %u: its move to %s was interrupted; "
			    "the copy is there", mailbox, m[i].uid,
			    m[i].folder);
	}
	return (0);
}

/*
 * Mark the messages not done yet that are \Deleted or gone from the
 * mailbox as staying (done). One UID FETCH FLAGS; -1 only for a broken
 * session (another failure moves nothing this pass).
 */
static int
folders_keep_gone(struct pipeline *p, const char *mailbox,
    uint32_t uidvalidity, const struct store_move *m, size_t n, int *done,
    char **cause)
{
	struct imap_flags	*fl = NULL;
	uint32_t		*uids, *stay;
	size_t			 nuids = 0, nfl = 0, nstay = 0, i, j;

	uids = xcalloc(n + 1, sizeof *uids);
	stay = xcalloc(n + 1, sizeof *stay);
	for (i = 0; i < n; i++)
		if (!done[i])
			uids[nuids++] = m[i].uid;
	if (nuids > 0 && imap_fetch_flags(p->imap, uids, nuids, &fl, &nfl,
	    cause) == -1) {
		free(uids);
		free(stay);
		if (!imap_alive(p->imap))
			return (-1);
		log_warnx("%s: cannot read flags before filing: %s", mailbox,
		    *cause);
		free(*cause);
		*cause = NULL;
		for (i = 0; i < n; i++)
			done[i] = 1;
		return (0);
	}
	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		for (j = 0; j < nfl && fl[j].uid != m[i].uid; j++)
			;
		if (j == nfl || fl[j].deleted) {
			stay[nstay++] = m[i].uid;
			done[i] = 1;
		}
	}
	if (nstay > 0)
		store_move_mark(p->store, mailbox, uidvalidity, stay, nstay,
		    STORE_MOVE_STAYS, NULL);
	imap_flags_free(fl, nfl);
	free(uids);
	free(stay);
	return (0);
}

enum pipeline_status
folders_file(struct pipeline *p, const char *mailbox, uint32_t uidvalidity,
    time_t now, char **cause)
{
	static int		 warned;
	struct store_move	*m;
	struct imap_moved	 one;
	uint32_t		*uids, *dst, *left = NULL;
	char			**folder;
	size_t			 n, i, j, k, nleft = 0, nrec = 0;
	int			*found, *done;
	enum pipeline_status	 rc = PIPELINE_OK;

	if (p->conf->queue.file_into == NULL)
		return (PIPELINE_OK);
	if (!imap_can_file(p->imap)) {
		if (!warned)
			log_warnx("%s: the server offers neither MOVE nor "
			    "UIDPLUS: [queue] file_into would need a plain "
			    "EXPUNGE, so mail stays in the mailbox", mailbox);
		warned = 1;
		return (PIPELINE_OK);
	}
	if (store_to_move(p->store, mailbox, uidvalidity,
	    now - FOLDERS_DAYS * 86400, &m, &n) == -1 || n == 0) {
		store_move_free(m, n);
		return (PIPELINE_OK);
	}
	uids = xcalloc(n, sizeof *uids);
	dst = xcalloc(n, sizeof *dst);
	found = xcalloc(n, sizeof *found);
	done = xcalloc(n, sizeof *done);
	folder = xcalloc(n, sizeof *folder);
	/* Mail that stays: noted once, never asked about again. */
	for (i = 0; i < n; i++)
		if ((folder[i] = folders_name(p->conf, m[i].category)) ==
		    NULL) {
			uids[nleft++] = m[i].uid;
			done[i] = 1;
		}
	if (nleft > 0)
		store_move_mark(p->store, mailbox, uidvalidity, uids, nleft,
		    STORE_MOVE_STAYS, NULL);
	for (i = 0; i < n; i++)
		nrec += m[i].begun && !done[i];
	if (nrec > 0) {
		if (folders_recover(p, mailbox, m, n, dst, found,
		    cause) == -1 || pipeline_reselect(p, cause) !=
		    PIPELINE_OK) {
			rc = PIPELINE_UNAVAILABLE;
			goto out;
		}
		/* Copies found: only the originals that remain go. */
		for (nleft = 0, i = 0; i < n; i++)
			if (found[i] && !done[i])
				uids[nleft++] = m[i].uid;
		if (nleft > 0 && (imap_search_uids(p->imap, uids, nleft,
		    &left, &k, cause) == -1 || (k > 0 &&
		    imap_expunge_uids(p->imap, left, k, cause) == -1))) {
			if (!imap_alive(p->imap)) {
				rc = PIPELINE_UNAVAILABLE;
				goto out;
			}
			/* Both copies stay until the next pass. */
			log_warnx("%s: cannot remove what an interrupted move "
			    "left behind: %s", mailbox, *cause);
			free(*cause);
			*cause = NULL;
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (!found[i] || done[i])
				continue;
			one.src = m[i].uid;
			one.dst = dst[i];
			folders_done(p, mailbox, uidvalidity, &m[i].uid, 1,
			    &one, 1, m[i].folder);
			done[i] = 1;
		}
	}
	/*
	 * What the therapist marked \Deleted, or already took away, stays:
	 * a move would carry the mark along or bring nothing.
	 */
	if (folders_keep_gone(p, mailbox, uidvalidity, m, n, done,
	    cause) == -1) {
		rc = PIPELINE_UNAVAILABLE;
		goto out;
	}
	/* One move per folder, for all its messages. */
	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		for (nleft = 0, j = i; j < n; j++)
			if (!done[j] && strcmp(folder[j], folder[i]) == 0) {
				uids[nleft++] = m[j].uid;
				done[j] = 1;
			}
		if (folders_move(p, mailbox, uidvalidity, uids, nleft,
		    folder[i], cause) == -1) {
			rc = PIPELINE_UNAVAILABLE;
			goto out;
		}
	}

out:
	xfreev(folder, n);
	free(left);
	free(uids);
	free(dst);
	free(found);
	free(done);
	store_move_free(m, n);
	return (rc);
}
