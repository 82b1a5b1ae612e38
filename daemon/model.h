/*
 * A learned second opinion: a naive Bayes model over the word
 * unigrams and bigrams of the subject and the new text and the rules that
 * matched, trained by `triaged train` from labelled messages into a
 * plain-text file in the rules folder (triage.model), read with the rules
 * and reloaded with them. It adds evidence to a category the way a scored
 * rule does, to the recall-first category (crisis) from a lower
 * probability; it never takes any away, so it cannot remove a crisis.
 * It also picks one tag of each group the rules declare exclusive
 * ("choose self family": whose drinking it is) where the rules set any,
 * and asks its sentence model (sentence.h) whether one sentence alone
 * reads as crisis.
 */
#ifndef TRIAGED_MODEL_H
#define TRIAGED_MODEL_H

#include <stddef.h>

#include "buf.h"
#include "diag.h"
#include "mime.h"

struct model;
struct model_train;

#define MODEL_MAX_CATS	32
#define MODEL_MAX_TAGS	16	/* of all "choose" groups together */

/*
 * What the model says about one message: its choice, and the evidence it
 * gives each category: +WEIGHT to its choice when confident (or to the
 * recall-first category from a lower probability), -WEIGHT to each
 * category it finds improbable (never to the recall-first one).
 */
struct model_opinion {
	int		 cat;		/* index into the model's categories */
	double		 prob;		/* its probability */
	int		 evidence;	/* points it adds (0: not confident) */
	int		 recall;	/* 1: from the recall-first bar, 2: from
					   a window of the text (window), 3:
					   from a sentence (sentence) */
	int		 of[MODEL_MAX_CATS];	/* evidence per category */
	/*
	 * What else the mail reads as: the most probable category but the
	 * recall-first one, when probable enough ("besides"); -1: none.
	 */
	int		 besides;
	/*
	 * Its choice, other than the recall-first category, when probable
	 * enough ("fallback") to stand where no rule carried a category; -1:
	 * none.
	 */
	int		 fallback;
	double		 fallback_prob;
	/* Per tag of a choose group: 1 picked, -1 not, 0 not sure. */
	int		 picked[MODEL_MAX_TAGS];
};

/* Load path; NULL without error when the file does not exist. */
struct model	*model_load(const char *path, struct diag *);
void		 model_free(struct model *);
size_t		 model_ncats(const struct model *);
const char	*model_cat(const struct model *, size_t);
/*
 * The model's opinion of m, whose extra features (the rules that matched,
 * "r:NAME") are given. With ex, write its choice, its probability and
 * the words that weighed most for it.
 */
void		 model_judge(const struct model *, const struct msg *,
		    char *const *extra, size_t nextra, struct model_opinion *,
		    struct buf *ex);

/* Does the model pick among exactly these tags (one group)? */
int		 model_has_group(const struct model *, const char *const *,
		    size_t);
/*
 * The choose groups of which tags names two or more, one bit per group
 * (bit g for group g): a rule that sets both tags of a group says both
 * apply ("we both drink").
 */
unsigned long	 model_groups_whole(const struct model *, char *const *tags,
		    size_t ntags);
/*
 * Where the opinion picked a tag of a group and *tags holds any tag of
 * that group, leave the picked one alone of the group in *tags; groups
 * whose bit is set in keep (model_groups_whole) are left as they are.
 */
void		 model_apply_picks(const struct model *,
		    const struct model_opinion *, unsigned long keep,
		    char ***tags, size_t *ntags);

/* The group of a tag (1, 2, ...), or 0 when the model has no such tag. */
unsigned	 model_group_of(const struct model *, const char *tag);
/* Group g fills in for verdicts of category (a "fill" line of the rules). */
void		 model_set_fill(struct model *, unsigned g,
		    const char *category);
/*
 * Where *tags holds no tag of group g, add the one the opinion picked
 * and return its name; NULL when it added none.
 */
const char	*model_fill(const struct model *,
		    const struct model_opinion *, unsigned g, char ***tags,
		    size_t *ntags);

/*
 * Training: declare the choose groups (each before any message; -1 when
 * there are too many tags or one is in two groups), add labelled
 * messages with the tags of their label, then write the model file.
 */
struct model_train *model_train_new(void);
int		 model_train_choose(struct model_train *,
		    const char *const *tags, size_t ntags);
void		 model_train_add(struct model_train *, const struct msg *,
		    char *const *extra, size_t nextra, const char *category,
		    char *const *labels, size_t nlabels);
/*
 * The sentence model: learn the sentences of category (crisis) in which
 * the rules matched (their matches, marks) against every sentence of the
 * other mail but the tolerated (acceptable) ones. flat is the message as
 * the rules read it (rules_flat).
 */
void		 model_train_recall(struct model_train *, const char *category);
void		 model_train_sentences(struct model_train *,
		    const struct msg *flat, const char *category,
		    char *const *marks, size_t nmarks, int acceptable);
/* Fit and write; recall_cat (or NULL) gets evidence from a lower bar. */
int		 model_train_write(struct model_train *, const char *path,
		    const char *recall_cat, char **cause);
void		 model_train_free(struct model_train *);

/* The features of a text, for tests: "a b a_b" (caller frees). */
char		*model_features(const struct msg *);

#endif
