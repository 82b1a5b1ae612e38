/*
 * The sentence model (see sentence.h). A sentence's features are its
 * distinct words and pairs of neighbouring words ("a_b"), as the model's
 * text features are; its score is the logistic function of a bias plus
 * the weights of its features. Training is plain stochastic gradient
 * descent with a little L2 decay, in a fixed order of its own (a seeded
 * shuffle), so the same corpus always writes the same file.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentence.h"
#include "xmalloc.h"

#define SENT_HASH	65536	/* buckets (power of two) */
#define SENT_EPOCHS	6
#define SENT_RATE	0.2	/* first learning rate ... */
#define SENT_DECAY	0.6	/* ... times this each epoch */
#define SENT_L2		1e-5
#define SENT_POSITIVE	5.0	/* weight of an example of crisis: they are
				   few, their counter-examples many */
#define SENT_BIAS	-3.0	/* where the bias starts */
#define SENT_MIN_COUNT	2	/* features of fewer sentences are dropped */
#define SENT_MIN_WEIGHT	0.01	/* ... and those that learned next to nothing */
#define SENT_EXPLAIN	6	/* strongest words in --explain */
#define SENT_MAX_WORD	64

struct sent_feat {
	char		*name;
	double		 w;
	size_t		 id;
	unsigned	 count;	/* training: sentences that have it */
	struct sent_feat *next;
};

struct sent_table {
	struct sent_feat **bucket;
	struct sent_feat **byid;	/* in the order they came */
	size_t		  n;
};

struct sentence_model {
	struct sent_table t;
	double		  bar;
	double		  bias;
};

struct sentence_train {
	struct sent_table t;
	size_t		 *feats;	/* feature ids of every example */
	size_t		  nfeats;
	size_t		 *start;	/* per example: where its ids begin */
	char		 *label;	/* per example: 1 crisis, 0 not */
	size_t		  n;
	size_t		  npos;
};

static size_t
sent_hash(const char *s)
{
	size_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h & (SENT_HASH - 1));
}

static struct sent_feat *
sent_find(const struct sent_table *t, const char *name)
{
	struct sent_feat	*f;

	if (t->bucket == NULL)
		return (NULL);
	for (f = t->bucket[sent_hash(name)]; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return (f);
	return (NULL);
}

static struct sent_feat *
sent_add(struct sent_table *t, const char *name)
{
	struct sent_feat	*f;
	size_t			 h;

	if ((f = sent_find(t, name)) != NULL)
		return (f);
	if (t->bucket == NULL)
		t->bucket = xcalloc(SENT_HASH, sizeof *t->bucket);
	h = sent_hash(name);
	f = xcalloc(1, sizeof *f);
	f->name = xstrdup(name);
	f->id = t->n;
	f->next = t->bucket[h];
	t->bucket[h] = f;
	t->byid = xreallocarray(t->byid, t->n + 1, sizeof *t->byid);
	t->byid[t->n++] = f;
	return (f);
}

static void
sent_table_free(struct sent_table *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++) {
		free(t->byid[i]->name);
		free(t->byid[i]);
	}
	free(t->byid);
	free(t->bucket);
	memset(t, 0, sizeof *t);
}

/*
 * Call fn for each feature of a sentence: each word, then each pair. A
 * feature that repeats is passed again (the callers keep them distinct).
 */
static void
sent_each(char *const *w, size_t n, void (*fn)(const char *, void *),
    void *arg)
{
	char	pair[2 * SENT_MAX_WORD + 2];
	size_t	i;

	for (i = 0; i < n; i++) {
		fn(w[i], arg);
		if (i + 1 < n && strlen(w[i]) < SENT_MAX_WORD &&
		    strlen(w[i + 1]) < SENT_MAX_WORD) {
			snprintf(pair, sizeof pair, "%s_%s", w[i], w[i + 1]);
			fn(pair, arg);
		}
	}
}

static int
sent_cmp_ptr(const void *a, const void *b)
{
	uintptr_t	x = (uintptr_t)*(void *const *)a;
	uintptr_t	y = (uintptr_t)*(void *const *)b;

	return (x < y ? -1 : x > y);
}

/* The features of a sentence that a table knows, each once. */
struct sent_found {
	const struct sent_table	 *t;
	struct sent_feat	**f;
	size_t			  n;
};

static void
sent_found_one(const char *name, void *arg)
{
	struct sent_found	*s = arg;
	struct sent_feat	*f;

	if ((f = sent_find(s->t, name)) == NULL)
		return;
	s->f = xreallocarray(s->f, s->n + 1, sizeof *s->f);
	s->f[s->n++] = f;
}

static void
sent_found(const struct sent_table *t, char *const *w, size_t n,
    struct sent_found *s)
{
	size_t	i, k;

	s->t = t;
	s->f = NULL;
	s->n = 0;
	sent_each(w, n, sent_found_one, s);
	if (s->n > 1)
		qsort(s->f, s->n, sizeof *s->f, sent_cmp_ptr);
	for (i = 0, k = 0; i < s->n; i++)
		if (k == 0 || s->f[k - 1] != s->f[i])
			s->f[k++] = s->f[i];
	s->n = k;
}

struct sentence_model *
sentence_model_new(double bar, double bias)
{
	struct sentence_model	*sm;

	sm = xcalloc(1, sizeof *sm);
	sm->bar = bar;
	sm->bias = bias;
	return (sm);
}

void
sentence_model_free(struct sentence_model *sm)
{
	if (sm == NULL)
		return;
	sent_table_free(&sm->t);
	free(sm);
}

void
sentence_model_weight(struct sentence_model *sm, const char *name, double w)
{
	sent_add(&sm->t, name)->w = w;
}

double
sentence_model_bar(const struct sentence_model *sm)
{
	return (sm->bar);
}

static int
sent_cmp_weight(const void *a, const void *b)
{
	const struct sent_feat	*x = *(struct sent_feat *const *)a;
	const struct sent_feat	*y = *(struct sent_feat *const *)b;

	if (x->w != y->w)
		return (x->w < y->w ? 1 : -1);
	return (strcmp(x->name, y->name));
}

double
sentence_model_score(const struct sentence_model *sm, char *const *w,
    size_t n, struct buf *ex)
{
	struct sent_found	s;
	double			z = sm->bias;
	size_t			i;

	sent_found(&sm->t, w, n, &s);
	for (i = 0; i < s.n; i++)
		z += s.f[i]->w;
	if (ex != NULL && s.n > 0) {
		qsort(s.f, s.n, sizeof *s.f, sent_cmp_weight);
		buf_addstr(ex, "; its strongest words:");
		for (i = 0; i < s.n && i < SENT_EXPLAIN && s.f[i]->w > 0; i++)
			buf_printf(ex, " %s (%.1f)", s.f[i]->name,
			    s.f[i]->w);
	}
	free(s.f);
	return (1 / (1 + exp(-z)));
}

struct sentence_train *
sentence_train_new(void)
{
	return (xcalloc(1, sizeof(struct sentence_train)));
}

void
sentence_train_free(struct sentence_train *st)
{
	if (st == NULL)
		return;
	sent_table_free(&st->t);
	free(st->feats);
	free(st->start);
	free(st->label);
	free(st);
}

static void
sent_train_one(const char *name, void *arg)
{
	sent_add(arg, name);
}

void
sentence_train_add(struct sentence_train *st, char *const *w, size_t n,
    int positive)
{
	struct sent_found	s;
	size_t			i;

	if (n == 0)
		return;
	sent_each(w, n, sent_train_one, &st->t);
	sent_found(&st->t, w, n, &s);
	st->feats = xreallocarray(st->feats, st->nfeats + s.n,
	    sizeof *st->feats);
	st->start = xreallocarray(st->start, st->n + 2, sizeof *st->start);
	st->label = xreallocarray(st->label, st->n + 1, 1);
	st->start[st->n] = st->nfeats;
	for (i = 0; i < s.n; i++) {
		s.f[i]->count++;
		st->feats[st->nfeats++] = s.f[i]->id;
	}
	st->start[st->n + 1] = st->nfeats;
	st->label[st->n++] = positive != 0;
	st->npos += positive != 0;
	free(s.f);
}

size_t
sentence_train_positives(const struct sentence_train *st)
{
	return (st->npos);
}

/* xorshift64: the shuffle's own numbers, the same on every run. */
static uint64_t
sent_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

void
sentence_train_write(struct sentence_train *st, FILE *fp, double bar)
{
	struct sent_feat	*f;
	double			*w, bias = SENT_BIAS, rate = SENT_RATE, z, g;
	size_t			*order, i, k, j, e, tmp;
	uint64_t		 seed = 0x9e3779b97f4a7c15ULL;

	w = xcalloc(st->t.n + 1, sizeof *w);
	order = xcalloc(st->n + 1, sizeof *order);
	for (i = 0; i < st->n; i++)
		order[i] = i;
	for (e = 0; e < SENT_EPOCHS; e++, rate *= SENT_DECAY) {
		for (i = st->n; i > 1; i--) {
			k = (size_t)(sent_random(&seed) % i);
			tmp = order[i - 1];
			order[i - 1] = order[k];
			order[k] = tmp;
		}
		for (i = 0; i < st->n; i++) {
			j = order[i];
			for (z = bias, k = st->start[j]; k < st->start[j + 1];
			    k++)
				z += w[st->feats[k]];
			z = z > 30 ? 30 : z < -30 ? -30 : z;
			g = 1 / (1 + exp(-z)) - st->label[j];
			if (st->label[j])
				g *= SENT_POSITIVE;
			for (k = st->start[j]; k < st->start[j + 1]; k++)
				w[st->feats[k]] -= rate *
				    (g + SENT_L2 * w[st->feats[k]]);
			bias -= rate * g;
		}
	}
	fprintf(fp, "sentence %.2f %.4f\n", bar, bias);
	for (i = 0; i < st->t.n; i++) {
		f = st->t.byid[i];
		if (f->count >= SENT_MIN_COUNT && fabs(w[i]) >= SENT_MIN_WEIGHT)
			fprintf(fp, "s %s %.4f\n", f->name, w[i]);
	}
	free(order);
	free(w);
}
