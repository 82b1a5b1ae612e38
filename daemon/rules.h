/*
 * Rules: plain-text *.rules files in a folder, compiled with pcre2 at load
 * time, matched against a parsed message to give a verdict.
 */
#ifndef TRIAGED_RULES_H
#define TRIAGED_RULES_H

#include <stddef.h>

#include "buf.h"
#include "diag.h"
#include "mime.h"

struct ruleset;

struct verdict {
	char	*category;	/* the winning category's name */
	char	*template;	/* its template name, NULL when not answered */
	int	 answer;	/* the category is answered at all */
	int	 priority;
	char	**tags;		/* all tags of all matching rules, no dups */
	size_t	 ntags;
	char	**rules;	/* names of matching rules, in file order */
	size_t	 nrules;
};

/*
 * Load every *.rules file of dir in name order. Errors and warnings go to
 * diag as file:line:col: message. Returns NULL if there was any error.
 */
struct ruleset	*rules_load(const char *dir, struct diag *);
void		 rules_free(struct ruleset *);

/* Classify msg. Always yields a verdict (the default category at least). */
void		 rules_classify(const struct ruleset *, const struct msg *,
		    struct verdict *);
void		 verdict_free(struct verdict *);

/*
 * For classify --explain: append to out, per matching rule, its file:line
 * and category, then one line per condition ("file:line rule NAME: field
 * FIELD matched "TEXT"", text capped and control characters blanked), then
 * why each other category lost, then the verdict. The text is message
 * content: print it, never log it. Returns the number of matching rules.
 */
int		 rules_explain(const struct ruleset *, const struct msg *,
		    struct buf *out);

/* Does the verdict carry tag? */
int		 verdict_has_tag(const struct verdict *, const char *);

/* Category names and their templates, for check's cross-reference. */
size_t		 rules_ncategories(const struct ruleset *);
/* Load rules without triage.model (train, which replaces it). */
void		 rules_skip_model(int);
/* The choose lines: groups of tags that exclude each other. */
size_t		 rules_nchoices(const struct ruleset *);
const char *const *rules_choice(const struct ruleset *, size_t,
		    size_t *ntags);
/*
 * The message as the rules read it (its text flattened: paragraphs one
 * line each, quote marks off), for the sentence model; free it with
 * rules_flat_free.
 */
struct msg	*rules_flat(const struct msg *);
void		 rules_flat_free(struct msg *);
/*
 * What the rules of the top category (crisis) matched in a flattened
 * message, one string per matching condition of each rule that matched,
 * guards that score against it left out: the sentence model's examples.
 */
char		**rules_top_matches(const struct ruleset *, const struct msg *,
		    size_t *n);
/* The category of highest priority (crisis): the model's recall-first. */
const char	*rules_top_category(const struct ruleset *);
/*
 * The rules that match m as the model's features ("r:NAME"), for
 * training; caller frees each and the array.
 */
char		**rules_model_features(const struct ruleset *,
		    const struct msg *, size_t *);
const char	*rules_category_name(const struct ruleset *, size_t);
const char	*rules_category_template(const struct ruleset *, size_t);
int		 rules_category_priority(const struct ruleset *, size_t);

#endif
