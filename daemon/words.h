/*
 * Word-level building blocks for rule patterns: named word lists
 * ("define NAME /alternatives/", used as $NAME in any later pattern) and
 * proximity ("near N /A/ /B/": A and B within N words of each other, in
 * either order). Both compile to ordinary pcre2 source, so a rule keeps
 * every pcre2 feature and one compiled pattern per line.
 */
#ifndef TRIAGED_WORDS_H
#define TRIAGED_WORDS_H

#include <stddef.h>

struct words {
	char	**names;
	char	**srcs;		/* expanded pattern source of each list */
	size_t	  n;
};

void	 words_init(struct words *);
void	 words_free(struct words *);
/* The list called name (len bytes), or NULL. */
const char *words_find(const struct words *, const char *name, size_t len);
/* Add a list (src already expanded); 0, or -1 when name is taken. */
int	 words_add(struct words *, const char *name, const char *src);
/*
 * Replace every $name in src by (?:list). NULL with *bad set to the
 * offset of an unknown $name (caller frees the result).
 */
char	*words_expand(const struct words *, const char *src, size_t *bad);
/* The pattern for "a and b within n words, either order"; caller frees. */
char	*words_near(const char *a, const char *b, unsigned n);

#endif
