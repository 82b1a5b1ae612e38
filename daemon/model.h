/*
 * A learned second opinion: a multinomial naive Bayes model over word
 * unigrams and bigrams of the subject and the new text, trained by
 * `triaged train` from labelled messages into a plain-text file in the
 * rules folder (triage.model), read with the rules and reloaded with them.
 * It adds evidence to a category the way a scored rule does; it never
 * takes any away, so it cannot remove a crisis.
 */
#ifndef TRIAGED_MODEL_H
#define TRIAGED_MODEL_H

#include <stddef.h>

#include "buf.h"
#include "diag.h"
#include "mime.h"

struct model;
struct model_train;

/* What the model says about one message. */
struct model_opinion {
	int		 cat;		/* index into the model's categories */
	double		 prob;		/* its posterior probability */
	int		 evidence;	/* points it adds (0: not confident) */
};

/* Load path; NULL without error when the file does not exist. */
struct model	*model_load(const char *path, struct diag *);
void		 model_free(struct model *);
size_t		 model_ncats(const struct model *);
const char	*model_cat(const struct model *, size_t);
/*
 * The model's opinion of m. With ex, write its category probabilities
 * and the words that weighed most for its choice.
 */
void		 model_judge(const struct model *, const struct msg *,
		    struct model_opinion *, struct buf *ex);

/* Training: add labelled messages, then write the model file. */
struct model_train *model_train_new(void);
void		 model_train_add(struct model_train *, const struct msg *,
		    const char *category);
int		 model_train_write(struct model_train *, const char *path,
		    char **cause);
void		 model_train_free(struct model_train *);

/* The features of a text, for tests: "a b a_b" (caller frees). */
char		*model_features(const struct msg *);

#endif
