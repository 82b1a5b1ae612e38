/*
 * The IMAP side, behind a narrow interface: libetpan never leaves imap.c.
 * Every connection verifies the server's certificate chain and host name
 * (libetpan checks nothing itself) before a credential is sent, and every
 * string that reaches libetpan is checked for CR, LF and NUL.
 */
#ifndef TRIAGED_IMAP_H
#define TRIAGED_IMAP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"

struct imap;

/* One fetched message: headers and the first fetch_max bytes of text. */
struct imap_fetched {
	uint32_t	 uid;
	time_t		 internaldate;
	size_t		 size;		/* RFC822.SIZE */
	char		*raw;		/* header + text, NUL-terminated */
	size_t		 len;
	int		 truncated;	/* text was cut at fetch_max */
	int		 triaged;	/* carries a $Triage_ keyword already */
};

/*
 * Connect, TLS (implicit or STARTTLS, verified), log in. Returns NULL and
 * sets *cause (caller frees) on failure; *cause never holds a secret.
 */
struct imap	*imap_open(const struct conf *, char **cause);
void		 imap_close(struct imap **);

/* SELECT mailbox (read-write); report UIDVALIDITY and UIDNEXT. */
int		 imap_select(struct imap *, const char *mailbox,
		    uint32_t *uidvalidity, uint32_t *uidnext, char **cause);

/* UIDs greater than after in the selected mailbox, ascending (UID SEARCH). */
int		 imap_search_after(struct imap *, uint32_t after,
		    uint32_t **uids, size_t *n, char **cause);

/* Which of the UIDs still exist (UID SEARCH UID set)? Caller frees. */
int		 imap_search_uids(struct imap *, const uint32_t *uids, size_t n,
		    uint32_t **out, size_t *nout, char **cause);
/* Remove the keywords from the UIDs (one UID STORE -FLAGS.SILENT). */
int		 imap_remove_keywords(struct imap *, const uint32_t *uids,
		    size_t n, const char *const *keywords, size_t nkw,
		    char **cause);
/* A message's flags that tell what the therapist did with it. */
struct imap_flags {
	uint32_t	 uid;
	int		 answered;	/* \Answered */
	int		 deleted;	/* \Deleted (the therapist's) */
	char		*triage;	/* the category of its $Triage_ keyword */
	int		 ntriage;	/* how many $Triage_ keywords it has */
};
/*
 * One UID FETCH (UID FLAGS) of the UIDs: those that still exist, with
 * their flags, by UID. Caller frees.
 */
int		 imap_fetch_flags(struct imap *, const uint32_t *uids, size_t n,
		    struct imap_flags **out, size_t *nout, char **cause);
void		 imap_flags_free(struct imap_flags *, size_t);
/*
 * Is the session still usable after a failed command (a NO or BAD), as
 * opposed to broken (the caller reconnects)?
 */
int		 imap_alive(const struct imap *);

/*
 * Fetch the given UIDs in one UID FETCH (UID INTERNALDATE RFC822.SIZE
 * BODY.PEEK[HEADER] BODY.PEEK[TEXT]<0.fetch_max>): \Seen is never set.
 * Messages expunged meanwhile are missing from the result.
 */
int		 imap_fetch(struct imap *, const uint32_t *uids, size_t n,
		    struct imap_fetched **out, size_t *nout, char **cause);
void		 imap_fetched_free(struct imap_fetched *, size_t);

/*
 * Add keyword (atom characters only, else -1; or exactly "\\Flagged") to
 * the UIDs, silently.
 */
int		 imap_add_keyword(struct imap *, const uint32_t *uids,
		    size_t n, const char *keyword, char **cause);

/*
 * APPEND data to mailbox with \Seen; mailbox NULL means the \Sent
 * special-use mailbox (LIST "" "*" RETURN (SPECIAL-USE)), else "Sent".
 */
int		 imap_append_sent(struct imap *, const char *mailbox,
		    const char *data, size_t len, char **cause);

/*
 * Wait up to timeout seconds for new mail (IDLE, or NOOP polling when the
 * server lacks IDLE); returns 1 when there may be new mail, 0 on timeout
 * or interruption by a signal, -1 on a broken connection.
 */
int		 imap_wait(struct imap *, unsigned timeout, char **cause);

/*
 * Is there a reply to message_id in the Sent folder (a UID SEARCH HEADER
 * In-Reply-To)? For a state that starts afresh on a mailbox triaged
 * before. Leaves the Sent folder selected. 1, 0, or -1 with *cause.
 */
int		 imap_sent_has_reply(struct imap *, const char *sent_folder,
		    const char *message_id, char **cause);

/*
 * Has the practice written to addr ([triage] skip_known = sent)? One UID
 * SEARCH TO addr in the Sent folder (sent_folder, or the \Sent
 * special-use mailbox when NULL), hits checked for the exact address.
 * Leaves the Sent folder selected: SELECT the inbox again afterwards.
 * addr must pass mime_valid_address and hold no quote or backslash.
 * Returns 1 (written to), 0 (not), or -1 with *cause set (caller frees).
 */
int		 imap_sent_has_recipient(struct imap *, const char *sent_folder,
		    const char *addr, char **cause);

/*
 * Filing ([queue] file_into). Folder names have "/" between levels and
 * are UTF-8; imap.c spells them as the server wants them.
 */
struct imap_moved {
	uint32_t	 src;		/* UID in the mailbox */
	uint32_t	 dst;		/* UID in the folder */
};
/* imap_select of a folder named with "/" between levels. */
int		 imap_select_folder(struct imap *, const char *folder,
		    uint32_t *uidvalidity, uint32_t *uidnext, char **cause);
/* Does the server offer MOVE or UIDPLUS (filing needs one)? */
int		 imap_can_file(const struct imap *);
/* Create (parents too) and subscribe folder when missing. 0 or -1. */
int		 imap_folder_ensure(struct imap *, const char *folder,
		    char **cause);
/*
 * Move UIDs of the selected mailbox into folder with UID MOVE, or UID
 * COPY where the server lacks MOVE (then the caller records the copy
 * and calls imap_expunge_uids). *map pairs source and destination UIDs
 * from COPYUID when the server sends it (caller frees). 1 moved, 0
 * copied, -1 with *cause.
 */
int		 imap_move_uids(struct imap *, const uint32_t *uids, size_t n,
		    const char *folder, uint32_t *uidvalidity,
		    struct imap_moved **map, size_t *nmap, char **cause);
/* \Deleted and UID EXPUNGE of exactly these UIDs (never EXPUNGE). */
int		 imap_expunge_uids(struct imap *, const uint32_t *uids,
		    size_t n, char **cause);
/*
 * Is the message with message_id in folder? *uid its newest UID there.
 * The folder stays selected (read-only). 1, 0, or -1 with *cause.
 */
int		 imap_folder_find(struct imap *, const char *folder,
		    const char *message_id, uint32_t *uid, char **cause);
/* What changes when anything in a folder changes (STATUS). */
struct imap_sig {
	uint64_t	 modseq;	/* HIGHESTMODSEQ; 0 without CONDSTORE */
	uint32_t	 messages;
	uint32_t	 uidnext;
};
int		 imap_folder_status(struct imap *, const char *folder,
		    struct imap_sig *, char **cause);
/* imap_fetch_flags in folder, which stays selected (read-only). */
int		 imap_folder_flags(struct imap *, const char *folder,
		    const uint32_t *uids, size_t n, struct imap_flags **out,
		    size_t *nout, char **cause);

#endif
