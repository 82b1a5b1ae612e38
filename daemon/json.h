/* Minimal JSON writer for classify --json and queue --json. */
#ifndef TRIAGED_JSON_H
#define TRIAGED_JSON_H

#include "buf.h"

/* Append s as a JSON string (quoted, escaped; invalid UTF-8 replaced). */
void	json_string(struct buf *, const char *s);
/* Append s, or null when s is NULL. */
void	json_string_or_null(struct buf *, const char *s);
/* Append a comma-separated list "a,b" as a JSON array of strings. */
void	json_csv_array(struct buf *, const char *csv);

#endif
