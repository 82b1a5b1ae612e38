/*
 * The sentence model: a logistic regression over the words and word
 * pairs of one sentence, taught by the rules. `triaged train` takes as
 * its examples of the recall-first category (crisis) the sentences of
 * crisis mail in which a crisis rule matched, and as counter-examples
 * every sentence of the other mail; it then learns which words make a
 * sentence read as crisis, so that a sentence in words no rule was
 * written for, beside those that were, can still raise the flag. The
 * model (model.c) splits the text and asks it for the best sentence.
 */
#ifndef TRIAGED_SENTENCE_H
#define TRIAGED_SENTENCE_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

struct sentence_model;
struct sentence_train;

struct sentence_model *sentence_model_new(double bar, double bias);
void		 sentence_model_free(struct sentence_model *);
/* A learned weight (a "s FEATURE WEIGHT" line of the model file). */
void		 sentence_model_weight(struct sentence_model *, const char *,
		    double);
double		 sentence_model_bar(const struct sentence_model *);
/*
 * The probability that a sentence, given as its words (stems), reads as
 * the recall-first category; with ex, its strongest words.
 */
double		 sentence_model_score(const struct sentence_model *,
		    char *const *w, size_t n, struct buf *ex);

struct sentence_train *sentence_train_new(void);
void		 sentence_train_free(struct sentence_train *);
/* One example: a sentence's words, and whether it reads as crisis. */
void		 sentence_train_add(struct sentence_train *, char *const *w,
		    size_t n, int positive);
size_t		 sentence_train_positives(const struct sentence_train *);
/* Fit the weights and write them as model lines. */
void		 sentence_train_write(struct sentence_train *, FILE *,
		    double bar);

#endif
