/*
 * Filing triaged mail into per-category folders ([queue] file_into), so
 * the therapist's mail client shows the queue by category. See folders.c.
 */
#ifndef TRIAGED_FOLDERS_H
#define TRIAGED_FOLDERS_H

#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "pipeline.h"

/*
 * The folder a category's mail goes to ("Inquiries/Crisis"), or NULL
 * when it stays in the mailbox (file_into unset; "unreadable"; the noise
 * category "not-inquiry" unless file_noise). Caller frees.
 */
char			*folders_name(const struct conf *, const char *category);

/*
 * Move the keyworded, unhandled messages of the selected mailbox into
 * their folders, finishing moves a crash interrupted without leaving a
 * duplicate; the mailbox is selected again afterwards. Trouble with one
 * folder is logged and waits for the next pass.
 */
enum pipeline_status	 folders_file(struct pipeline *, const char *mailbox,
			    uint32_t uidvalidity, time_t now, char **cause);

#endif
