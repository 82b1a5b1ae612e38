/*
 * Naive Bayes over the features of a message (see model.h): the
 * lower-cased words of the subject, the new text and any forwarded text
 * (letters and digits, any script) cut to their Snowball stems, so that
 * "overdosed" and "overdosing" are one word, each pair of them as "a_b",
 * a few header facts ("h:list", "h:auto") and the rules that matched
 * ("r:NAME"). A message counts each feature once. The model file is text:
 *
 *	triaged-model 4
 *	evidence WEIGHT CONFIDENCE	points for the model's choice, and the
 *					probability it needs for them
 *	recall CATEGORY PROBABILITY	the category that gets the points from
 *					a lower probability (recall-first)
 *	window WORDS PROBABILITY	... and from any run of WORDS words of
 *					the text that reads as it this
 *					probably (0 words: never)
 *	against PROBABILITY		a confident model takes the points from
 *					each category below it (never from the
 *					recall-first one)
 *	besides PROBABILITY		what else the mail reads as, when that
 *					is this probable (0: never)
 *	fallback PROBABILITY		the model's choice stands where no rule
 *					carried a category, from this (0: never)
 *	category NAME DOCS TOKENS	...
 *	sentence PROBABILITY BIAS	the sentence model (sentence.c): a
 *					sentence that reads as the recall-first
 *					category this probably gives it the
 *					points, whatever the rest says
 *	s FEATURE WEIGHT		a weight of the sentence model
 *	pick PROBABILITY		what the model needs to pick one tag of
 *					a group the rules declared (choose)
 *	tag NAME GROUP DOCS TOKENS	a tag of such a group (1, 2, ...)
 *	f FEATURE COUNT...		one count per category, then per tag,
 *					in order
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libstemmer.h>

#include "log.h"
#include "model.h"
#include "sentence.h"
#include "xmalloc.h"

#define MODEL_MAGIC		"triaged-model 4"	/* 3: stems, 4: forwards */
#define MODEL_WEIGHT		10	/* evidence when confident */
#define MODEL_CONFIDENCE	0.60	/* posterior needed for it */
#define MODEL_RECALL		0.20	/* ... for the recall-first category */
#define MODEL_WINDOW		20	/* words in a window of the text */
#define MODEL_WINDOW_BAR	0.90	/* ... that alone reads as crisis */
#define MODEL_SENTENCE_BAR	0.85	/* a sentence that reads as crisis */
#define MODEL_SENTENCE_WORDS	200	/* words of a sentence read */
#define MODEL_SENTENCES		400	/* sentences of a message read */
#define MODEL_AGAINST		0.05	/* below it, evidence against */
#define MODEL_BESIDES		0.05	/* from it, what else the mail is */
#define MODEL_FALLBACK		0.25	/* from it, the choice stands alone */
#define MODEL_SMOOTHING		0.10	/* pseudo-count of every feature */
#define MODEL_TEMPERATURE	3.0	/* divides the log odds */
#define MODEL_PICK		0.95	/* posterior to pick a tag: the rules'
					   own tag stays unless it is sure */
#define MODEL_MIN_COUNT		2	/* features seen fewer times drop */
#define MODEL_HASH		65536	/* buckets (power of two) */
#define MODEL_EXPLAIN_WORDS	6

struct model_feat {
	char			*name;
	unsigned		*count;	/* per category, then per tag */
	struct model_feat	*next;
};

struct model_table {
	struct model_feat	**bucket;
	size_t			  n;
};

struct model {
	char			**cats;
	size_t			  ncats;
	unsigned		 *docs;
	unsigned long		 *tokens;
	struct model_table	  feats;
	int			  weight;
	double			  confidence;
	char			 *recall_name;	/* or NULL */
	int			  recall_cat;	/* -1: none */
	double			  recall;
	size_t			  window;	/* words; 0: no window vote */
	double			  window_bar;
	double			  against;	/* 0: never */
	double			  besides;	/* 0: never */
	double			  fallback;	/* 0: never */
	double			  smoothing;
	double			  temperature;
	/*
	 * Complement naive Bayes (Rennie et al. 2003): a category is weighed
	 * by how unlike the words are to all the other categories' mail,
	 * which holds up better where categories differ in size and words.
	 */
	int			  complement;
	unsigned long		  alltokens;	/* over the categories */
	/*
	 * Tags of the rules' "choose" and "fill" groups, learned from the
	 * labels: the model picks one of a group where the rules set any of
	 * them (choose), or where a verdict of the fill category has none.
	 * Their counts start at tagbase (the categories' count in a loaded
	 * model, MODEL_MAX_CATS while training, when categories still arrive).
	 */
	char			 *tags[MODEL_MAX_TAGS];
	unsigned		  group[MODEL_MAX_TAGS];
	char			 *fill[MODEL_MAX_TAGS + 1];	/* per group */
	unsigned		  tdocs[MODEL_MAX_TAGS];
	unsigned long		  ttokens[MODEL_MAX_TAGS];
	size_t			  ntags;
	size_t			  tagbase;
	unsigned		  ngroups;
	double			  pick;
	struct sentence_model	 *sent;		/* or NULL */
};

struct model_train {
	struct model		  m;
	struct sentence_train	 *st;		/* NULL: no sentence model */
	char			 *sent_cat;	/* whose sentences it learns */
};

/* FNV-1a, for the feature table. */
static size_t
model_hash(const char *s)
{
	size_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h & (MODEL_HASH - 1));
}

static struct model_feat *
model_find(const struct model_table *t, const char *name)
{
	struct model_feat	*f;

	if (t->bucket == NULL)
		return (NULL);
	for (f = t->bucket[model_hash(name)]; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return (f);
	return (NULL);
}

/* Find or add a feature with ncounts counters (zero). */
static struct model_feat *
model_add(struct model_table *t, const char *name, size_t ncounts)
{
	struct model_feat	*f;
	size_t			 h;

	if (t->bucket == NULL)
		t->bucket = xcalloc(MODEL_HASH, sizeof *t->bucket);
	if ((f = model_find(t, name)) != NULL)
		return (f);
	h = model_hash(name);
	f = xcalloc(1, sizeof *f);
	f->name = xstrdup(name);
	f->count = xcalloc(ncounts, sizeof *f->count);
	f->next = t->bucket[h];
	t->bucket[h] = f;
	t->n++;
	return (f);
}

static void
model_table_free(struct model_table *t)
{
	struct model_feat	*f, *next;
	size_t			 i;

	if (t->bucket == NULL)
		return;
	for (i = 0; i < MODEL_HASH; i++) {
		for (f = t->bucket[i]; f != NULL; f = next) {
			next = f->next;
			free(f->name);
			free(f->count);
			free(f);
		}
	}
	free(t->bucket);
	memset(t, 0, sizeof *t);
}

/*
 * The code point at p and its length in bytes (1 for a broken sequence,
 * which then counts as a letter byte).
 */
static unsigned
model_utf8(const unsigned char *p, size_t *len)
{
	unsigned	cp;
	size_t		n, i;

	if (*p < 0x80) {
		*len = 1;
		return (*p);
	}
	n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
	cp = n == 4 ? (*p & 0x07u) : n == 3 ? (*p & 0x0fu) : (*p & 0x1fu);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*len = 1;
			return (0xfffd);
		}
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	*len = n;
	return (n == 1 ? 0xfffd : cp);
}

/* Is the code point punctuation or a symbol (a word separator)? */
static int
model_separator(unsigned cp)
{
	if (cp < 0x80)
		return (!isalnum((int)cp) && cp != '\'');
	return ((cp >= 0xa0 && cp <= 0xbf) || cp == 0xd7 || cp == 0xf7 ||
	    (cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x3000 && cp <= 0x303f));
}

/* Is it a pictograph (emoji), a word of its own? */
static int
model_pictograph(unsigned cp)
{
	return ((cp >= 0x2600 && cp <= 0x27bf) || cp >= 0x1f000);
}

/* Append a word, as its stem when there is a stemmer. */
static void
model_push(struct sb_stemmer *stem, char ***list, size_t *n, const char *w,
    size_t len)
{
	const sb_symbol	*s = NULL;

	*list = xreallocarray(*list, *n + 1, sizeof **list);
	if (stem != NULL)
		s = sb_stemmer_stem(stem, (const sb_symbol *)w, (int)len);
	if (s != NULL)
		(*list)[(*n)++] = xstrndup((const char *)s,
		    (size_t)sb_stemmer_length(stem));
	else
		(*list)[(*n)++] = xstrndup(w, len);
}

/*
 * Append the words of s to list: runs of letters and digits of any
 * script, ASCII lower-cased, apostrophes dropped, cut to their English
 * stems (Spanish words pass nearly unchanged, and the same each time); an
 * emoji is a word.
 */
static void
model_words(struct sb_stemmer *stem, const char *s, char ***list, size_t *n,
    size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 w[64];
	size_t			 len = 0, cl, i;
	unsigned		 cp;

	while (p != NULL && *n < max) {
		cp = *p == '\0' ? 0 : model_utf8(p, &cl);
		if (cp == 0 || model_separator(cp) || model_pictograph(cp)) {
			if (len > 0)
				model_push(stem, list, n, w, len);
			len = 0;
			if (cp == 0)
				break;
			if (model_pictograph(cp))
				model_push(NULL, list, n, (const char *)p, cl);
			p += cl;
			continue;
		}
		if (cp != '\'' && len + cl < sizeof w)
			for (i = 0; i < cl; i++)
				w[len++] = (char)(cl == 1 ? tolower(p[i]) :
				    p[i]);
		p += cl;
	}
}

/* Header facts a person seeking help never sends. */
static void
model_header_feats(const struct msg *m, char ***list, size_t *n)
{
	const char	*v;

	/* Lists, bulk, and the campaign marks of bulk-mail services. */
	if (msg_header(m, "List-Id") != NULL ||
	    msg_header(m, "List-Unsubscribe") != NULL ||
	    msg_header(m, "X-Campaign") != NULL ||
	    msg_header(m, "X-CampaignID") != NULL ||
	    msg_header(m, "X-Campaign-Id") != NULL ||
	    msg_header(m, "X-MC-User") != NULL ||
	    msg_header(m, "X-Roving-Id") != NULL ||
	    ((v = msg_header(m, "Precedence")) != NULL &&
	    (strcasestr(v, "bulk") != NULL || strcasestr(v, "list") != NULL))) {
		*list = xreallocarray(*list, *n + 1, sizeof **list);
		(*list)[(*n)++] = xstrdup("h:list");
	}
	if (((v = msg_header(m, "Auto-Submitted")) != NULL &&
	    strncasecmp(v, "no", 2) != 0) ||
	    msg_header(m, "X-Autoreply") != NULL) {
		*list = xreallocarray(*list, *n + 1, sizeof **list);
		(*list)[(*n)++] = xstrdup("h:auto");
	}
}

static int
model_strcmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * The words of the subject, the new text and any forwarded text, in order:
 * what a writer forwards ("what I wrote to my pastor") is their message,
 * as the rules read it too; quoted history is not.
 */
static char **
model_text_words(const struct msg *m, size_t *nw)
{
	struct sb_stemmer	 *stem;
	char			**w = NULL;

	*nw = 0;
	/* NULL only when out of memory: the words then stay whole. */
	stem = sb_stemmer_new("english", "UTF_8");
	model_words(stem, m->subject, &w, nw, 4096);
	model_words(stem, m->body, &w, nw, 4096);
	model_words(stem, m->forwarded, &w, nw, 4096);
	sb_stemmer_delete(stem);
	return (w);
}

/*
 * Call fn with the words of each sentence of the subject, the new text
 * and any forwarded text, in order. A sentence ends at a line break (a
 * paragraph, once the rules flattened the text) or at ".", "!" or "?"
 * before white space.
 */
static void
model_sentences(const struct msg *m,
    void (*fn)(char *const *, size_t, size_t, void *), void *arg)
{
	const char		*field[3], *p, *e;
	struct sb_stemmer	*stem;
	char			*s, **w;
	size_t			 f, nw, n = 0;

	field[0] = m->subject;
	field[1] = m->body;
	field[2] = m->forwarded;
	stem = sb_stemmer_new("english", "UTF_8");
	for (f = 0; f < 3; f++) {
		for (p = field[f]; p != NULL && *p != '\0' &&
		    n < MODEL_SENTENCES; p = *e != '\0' ? e + 1 : e) {
			for (e = p; *e != '\0' && *e != '\n'; e++)
				if ((*e == '.' || *e == '!' || *e == '?') &&
				    (e[1] == '\0' || isspace((unsigned char)e[1])))
					break;
			s = xstrndup(p, (size_t)(e - p));
			w = NULL;
			nw = 0;
			model_words(stem, s, &w, &nw, MODEL_SENTENCE_WORDS);
			free(s);
			if (nw > 0)
				fn(w, nw, n++, arg);
			xfreev(w, nw);
		}
	}
	sb_stemmer_delete(stem);
}

/*
 * The distinct features of m (its words w) and the extra ones (the rules
 * that matched), sorted; caller frees each and the array.
 */
static char **
model_feats(const struct msg *m, char *const *w, size_t nw,
    char *const *extra, size_t nextra, size_t *np)
{
	char			**f = NULL;
	size_t			  nf = 0, i, k;

	for (i = 0; i < nw; i++) {
		f = xreallocarray(f, nf + 2, sizeof *f);
		f[nf++] = xstrdup(w[i]);
		if (i + 1 < nw)
			f[nf++] = xasprintf("%s_%s", w[i], w[i + 1]);
	}
	model_header_feats(m, &f, &nf);
	for (i = 0; i < nextra; i++) {
		f = xreallocarray(f, nf + 1, sizeof *f);
		f[nf++] = xstrdup(extra[i]);
	}
	if (nf > 1)
		qsort(f, nf, sizeof *f, model_strcmp);
	for (i = 0, k = 0; i < nf; i++) {
		if (k > 0 && strcmp(f[k - 1], f[i]) == 0) {
			free(f[i]);
			continue;
		}
		f[k++] = f[i];
	}
	*np = k;
	return (f);
}

char *
model_features(const struct msg *m)
{
	struct buf	  b;
	char		**w, **f;
	size_t		  nw, n, i;

	w = model_text_words(m, &nw);
	f = model_feats(m, w, nw, NULL, 0, &n);
	xfreev(w, nw);
	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		buf_printf(&b, "%s%s", i > 0 ? " " : "", f[i]);
		free(f[i]);
	}
	free(f);
	return (buf_detach(&b, NULL));
}

size_t
model_ncats(const struct model *md)
{
	return (md->ncats);
}

const char *
model_cat(const struct model *md, size_t i)
{
	return (i < md->ncats ? md->cats[i] : NULL);
}

/* The index of category name, added when missing (training). */
static int
model_cat_index(struct model *md, const char *name, int add)
{
	size_t	i;

	for (i = 0; i < md->ncats; i++)
		if (strcmp(md->cats[i], name) == 0)
			return ((int)i);
	if (!add || md->ncats == MODEL_MAX_CATS)
		return (-1);
	md->cats = xreallocarray(md->cats, md->ncats + 1, sizeof *md->cats);
	md->docs = xreallocarray(md->docs, md->ncats + 1, sizeof *md->docs);
	md->tokens = xreallocarray(md->tokens, md->ncats + 1,
	    sizeof *md->tokens);
	md->cats[md->ncats] = xstrdup(name);
	md->docs[md->ncats] = 0;
	md->tokens[md->ncats] = 0;
	return ((int)md->ncats++);
}

static void
model_clear(struct model *md)
{
	size_t	i;

	for (i = 0; i < md->ncats; i++)
		free(md->cats[i]);
	for (i = 0; i < md->ntags; i++)
		free(md->tags[i]);
	for (i = 0; i <= MODEL_MAX_TAGS; i++)
		free(md->fill[i]);
	free(md->cats);
	free(md->recall_name);
	free(md->docs);
	free(md->tokens);
	model_table_free(&md->feats);
	sentence_model_free(md->sent);
	memset(md, 0, sizeof *md);
}

void
model_free(struct model *md)
{
	if (md == NULL)
		return;
	model_clear(md);
	free(md);
}

/* A number of the file: all of tok, finite. */
static int
model_number(const char *tok, double *v)
{
	char	*end;

	if (tok == NULL)
		return (-1);
	errno = 0;
	*v = strtod(tok, &end);
	return (*end != '\0' || errno != 0 || !isfinite(*v) ? -1 : 0);
}

/* "tag NAME GROUP DOCS TOKENS", after the categories, before features. */
static int
model_tag_line(struct model *md, const char *path, unsigned ln,
    struct diag *d)
{
	const char	*name, *tok[3];
	char		*end;
	unsigned long	 v[3];
	size_t		 i;

	if ((name = strtok(NULL, " \t")) == NULL)
		goto bad;
	for (i = 0; i < 3; i++) {
		if ((tok[i] = strtok(NULL, " \t")) == NULL)
			goto bad;
		errno = 0;
		v[i] = strtoul(tok[i], &end, 10);
		if (*end != '\0' || errno != 0 || v[i] > 1000000000)
			goto bad;
	}
	if (md->feats.n > 0 || md->ncats == 0 || md->ntags == MODEL_MAX_TAGS ||
	    v[0] < 1 || v[0] > md->ngroups + 1)
		goto bad;
	for (i = 0; i < md->ntags; i++)
		if (strcmp(md->tags[i], name) == 0)
			goto bad;
	md->tags[md->ntags] = xstrdup(name);
	md->group[md->ntags] = (unsigned)v[0];
	md->tdocs[md->ntags] = (unsigned)v[1];
	md->ttokens[md->ntags++] = v[2];
	if (v[0] > md->ngroups)
		md->ngroups = (unsigned)v[0];
	return (0);

bad:
	diag_error(d, path, ln, "model: tag: a name not seen before, its "
	    "group (1, 2, ... in order), documents and tokens, after the "
	    "categories and before the features (run triaged train again)");
	return (-1);
}

/*
 * The lines that set one number, and its range. Naive Bayes adds up every
 * word as if independent, so its posterior is near 0 or 1 on any long
 * message; the temperature divides the log odds back to probabilities the
 * thresholds can use. A smaller pseudo-count (smoothing) lets the words a
 * category really uses count for more than the many it never saw.
 */
static const struct model_setting {
	const char	*name;
	size_t		 off;		/* of the double in struct model */
	double		 lo, hi;
	int		 lo_open, hi_open;	/* the bound is excluded */
	const char	*why;
} model_settings[] = {
	{ "against", offsetof(struct model, against), 0, 0.5, 0, 1,
	  "against: a probability from 0 to below 0.5 (0: never)" },
	{ "besides", offsetof(struct model, besides), 0, 1, 0, 0,
	  "besides: a probability from 0 to 1 (0: never)" },
	{ "fallback", offsetof(struct model, fallback), 0, 1, 0, 0,
	  "fallback: a probability from 0 to 1 (0: never)" },
	{ "smoothing", offsetof(struct model, smoothing), 0, 10, 1, 0,
	  "smoothing: a pseudo-count above 0, at most 10" },
	{ "temperature", offsetof(struct model, temperature), 1, 100, 0, 0,
	  "temperature: a number from 1 to 100" },
	{ "pick", offsetof(struct model, pick), 0.5, 1, 0, 0,
	  "pick: a probability from 0.5 to 1" },
};

/* Parse one "f NAME COUNT..." or header line of the file. */
static int
model_line(struct model *md, char *line, const char *path, unsigned ln,
    struct diag *d)
{
	const struct model_setting *set;
	struct model_feat	*f;
	const char		*why = "unreadable line (run triaged train "
				    "again)";
	char			*name, *tok, *end;
	unsigned long		 v;
	double			 x, v2;
	size_t			 i;
	int			 c;

	if ((tok = strtok(line, " \t")) == NULL || *tok == '#')
		return (0);
	if (strcmp(tok, "evidence") == 0) {
		if (model_number(strtok(NULL, " \t"), &x) == -1 || x < 1 ||
		    x > 1000 || x != floor(x)) {
			why = "evidence: a whole number of points from 1 to "
			    "1000, then a probability from 0.5 to 1";
			goto bad;
		}
		md->weight = (int)x;
		if (model_number(strtok(NULL, " \t"), &x) == -1 || x < 0.5 ||
		    x > 1) {
			why = "evidence: the probability is from 0.5 to 1";
			goto bad;
		}
		md->confidence = x;
		return (0);
	}
	if (strcmp(tok, "kind") == 0) {
		if ((name = strtok(NULL, " \t")) == NULL ||
		    (strcmp(name, "complement") != 0 &&
		    strcmp(name, "plain") != 0)) {
			why = "kind: complement or plain";
			goto bad;
		}
		md->complement = strcmp(name, "complement") == 0;
		return (0);
	}
	if (strcmp(tok, "recall") == 0) {
		if ((name = strtok(NULL, " \t")) == NULL ||
		    model_number(strtok(NULL, " \t"), &x) == -1 || x <= 0 ||
		    x > 1) {
			why = "recall: a category, then a probability above 0 "
			    "and at most 1";
			goto bad;
		}
		/* It may come before its category: resolved at the end. */
		md->recall = x;
		free(md->recall_name);
		md->recall_name = xstrdup(name);
		return (0);
	}
	if (strcmp(tok, "window") == 0) {
		if (model_number(strtok(NULL, " \t"), &x) == -1 || x < 0 ||
		    x > 1000 || x != floor(x) ||
		    model_number(strtok(NULL, " \t"), &v2) == -1 ||
		    v2 < 0.5 || v2 > 1) {
			why = "window: a whole number of words from 0 to 1000 "
			    "(0: never), then a probability from 0.5 to 1";
			goto bad;
		}
		md->window = (size_t)x;
		md->window_bar = v2;
		return (0);
	}
	if (strcmp(tok, "sentence") == 0) {
		if (model_number(strtok(NULL, " \t"), &x) == -1 || x < 0.5 ||
		    x > 1 || model_number(strtok(NULL, " \t"), &v2) == -1 ||
		    fabs(v2) > 1000) {
			why = "sentence: a probability from 0.5 to 1, then the "
			    "learned bias (run triaged train again)";
			goto bad;
		}
		sentence_model_free(md->sent);
		md->sent = sentence_model_new(x, v2);
		return (0);
	}
	if (strcmp(tok, "s") == 0) {
		if (md->sent == NULL || (name = strtok(NULL, " \t")) == NULL ||
		    model_number(strtok(NULL, " \t"), &x) == -1 ||
		    fabs(x) > 1000) {
			why = "s: a word of the sentence model and its weight, "
			    "after the sentence line";
			goto bad;
		}
		sentence_model_weight(md->sent, name, x);
		return (0);
	}
	for (i = 0; i < sizeof model_settings / sizeof model_settings[0];
	    i++) {
		set = &model_settings[i];
		if (strcmp(tok, set->name) != 0)
			continue;
		if (model_number(strtok(NULL, " \t"), &x) == -1 ||
		    x < set->lo || (set->lo_open && x == set->lo) ||
		    x > set->hi || (set->hi_open && x == set->hi)) {
			why = set->why;
			goto bad;
		}
		*(double *)(void *)((char *)md + set->off) = x;
		return (0);
	}
	if (strcmp(tok, "tag") == 0)
		return (model_tag_line(md, path, ln, d));
	if (strcmp(tok, "category") == 0) {
		/* Features are sized to the columns before them. */
		if (md->feats.n > 0 || md->ntags > 0 ||
		    (name = strtok(NULL, " \t")) == NULL ||
		    (c = model_cat_index(md, name, 1)) == -1)
			goto bad;
		if ((tok = strtok(NULL, " \t")) == NULL)
			goto bad;
		md->docs[c] = (unsigned)strtoul(tok, &end, 10);
		if ((tok = strtok(NULL, " \t")) == NULL)
			goto bad;
		md->tokens[c] = strtoul(tok, &end, 10);
		return (0);
	}
	if (strcmp(tok, "f") != 0 || md->ncats == 0 ||
	    (name = strtok(NULL, " \t")) == NULL)
		goto bad;
	f = model_add(&md->feats, name, md->ncats + md->ntags);
	for (i = 0; i < md->ncats + md->ntags; i++) {
		if ((tok = strtok(NULL, " \t")) == NULL)
			goto bad;
		errno = 0;
		v = strtoul(tok, &end, 10);
		if (*end != '\0' || errno != 0 || v > 1000000000)
			goto bad;
		f->count[i] = (unsigned)v;
	}
	return (0);

bad:
	diag_error(d, path, ln, "model: %s", why);
	return (-1);
}

/* Is any group of tags one tag alone? */
static int
model_groups_bad(const struct model *md)
{
	size_t		t, n;
	unsigned	g;

	for (g = 1; g <= md->ngroups; g++) {
		for (n = 0, t = 0; t < md->ntags; t++)
			n += md->group[t] == g;
		if (n < 2)
			return (1);
	}
	return (0);
}

struct model *
model_load(const char *path, struct diag *d)
{
	struct model	*md;
	FILE		*fp;
	char		*line = NULL;
	size_t		 size = 0;
	ssize_t		 len;
	unsigned	 ln = 0;
	int		 bad = 0;
	size_t		 c;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			diag_error(d, path, 0, "model: %s", strerror(errno));
		return (NULL);
	}
	md = xcalloc(1, sizeof *md);
	md->weight = MODEL_WEIGHT;
	md->confidence = MODEL_CONFIDENCE;
	/* A file without these lines reads as add-one, undivided. */
	md->smoothing = 1.0;
	md->temperature = 1.0;
	md->recall_cat = -1;
	md->pick = MODEL_PICK;
	while (!bad && (len = getline(&line, &size, fp)) != -1) {
		ln++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (ln == 1) {
			if (strcmp(line, MODEL_MAGIC) != 0) {
				diag_error(d, path, 1, "model: not a triaged "
				    "model of this version (expected \"%s\"; "
				    "run triaged train again)", MODEL_MAGIC);
				bad = 1;
			}
			continue;
		}
		if (model_line(md, line, path, ln, d) == -1)
			bad = 1;
	}
	free(line);
	fclose(fp);
	if (!bad && md->ncats < 2) {
		diag_error(d, path, ln, "model: fewer than two categories");
		bad = 1;
	}
	md->tagbase = md->ncats;
	for (c = 0; c < md->ncats; c++)
		md->alltokens += md->tokens[c];
	if (!bad && model_groups_bad(md)) {
		diag_error(d, path, ln, "model: a tag group with fewer than "
		    "two tags (run triaged train again)");
		bad = 1;
	}
	if (!bad && md->recall_name != NULL &&
	    (md->recall_cat = model_cat_index(md, md->recall_name, 0)) == -1) {
		diag_error(d, path, 0, "model: recall category %s is not one "
		    "of its categories", md->recall_name);
		bad = 1;
	}
	if (bad) {
		model_free(md);
		return (NULL);
	}
	return (md);
}

/*
 * log P(feature | column), smoothed by a pseudo-count: a column is a
 * category, or from tagbase on a tag.
 */
static double
model_smoothed(const struct model *md, double count, unsigned long tokens)
{
	double	a = md->smoothing;

	return (log((count + a) / ((double)tokens + a *
	    ((double)md->feats.n + 1))));
}

static double
model_logp(const struct model *md, const struct model_feat *f, size_t c)
{
	unsigned long	 tokens;

	tokens = c < md->tagbase ? md->tokens[c] : md->ttokens[c - md->tagbase];
	return (model_smoothed(md, f != NULL ? f->count[c] : 0, tokens));
}

/*
 * The weight of a feature for category c: its log likelihood, or in a
 * complement model the negated log likelihood of the other categories'
 * mail, smoothed alike.
 */
static double
model_catw(const struct model *md, const struct model_feat *f, size_t c)
{
	double		 others = 0;
	size_t		 k;

	if (!md->complement)
		return (model_logp(md, f, c));
	for (k = 0; f != NULL && k < md->ncats; k++)
		if (k != c)
			others += f->count[k];
	return (-model_smoothed(md, others, md->alltokens - md->tokens[c]));
}

/* The weight of column c: a category's, or a tag's likelihood. */
static double
model_colw(const struct model *md, const struct model_feat *f, size_t c)
{
	return (c < md->tagbase ? model_catw(md, f, c) : model_logp(md, f, c));
}

struct model_word {
	const char	*name;
	double		 weight;
};

static int
model_word_cmp(const void *a, const void *b)
{
	const struct model_word	*x = a, *y = b;

	return (x->weight < y->weight ? 1 : x->weight > y->weight ? -1 : 0);
}

/*
 * For --explain: the features that weighed most for column col over the
 * others of cols (the categories, or the tags of one group).
 */
static void
model_explain(const struct model *md, char *const *f, size_t n, size_t col,
    const size_t *cols, size_t ncols, struct buf *ex)
{
	const struct model_feat	*feat;
	struct model_word	*words;
	double			 other;
	size_t			 i, c, nw = 0;

	words = xcalloc(n + 1, sizeof *words);
	for (i = 0; i < n; i++) {
		if ((feat = model_find(&md->feats, f[i])) == NULL)
			continue;
		for (other = -HUGE_VAL, c = 0; c < ncols; c++)
			if (cols[c] != col && model_colw(md, feat, cols[c]) >
			    other)
				other = model_colw(md, feat, cols[c]);
		words[nw].name = f[i];
		words[nw].weight = model_colw(md, feat, col) - other;
		nw++;
	}
	qsort(words, nw, sizeof *words, model_word_cmp);
	buf_addstr(ex, "; strongest words:");
	for (i = 0; i < nw && i < MODEL_EXPLAIN_WORDS && words[i].weight > 0;
	    i++)
		buf_printf(ex, " %s (%.1f)", words[i].name, words[i].weight);
	buf_addch(ex, '\n');
	free(words);
}

/*
 * The recall-first category's probability in the run of md->window words
 * (and the pairs inside it) that reads most like it, runs overlapping by
 * half; *at is the first word of that run. A crisis said in one sentence
 * of a long note about something else is outvoted in the whole message
 * but not in its own few words.
 */
static double
model_window_recall(const struct model *md, char *const *w, size_t nw,
    size_t *at)
{
	const struct model_feat	*feat;
	char			*pair;
	size_t			 W = md->window, step, s, i, c;
	double			 p[MODEL_MAX_CATS], best, sum, maxp = 0;
	double			(*ww)[MODEL_MAX_CATS], (*pw)[MODEL_MAX_CATS];

	/*
	 * The weights of each word and of each pair (a word and the next)
	 * once, since the runs overlap: a run sums them in the same order.
	 */
	ww = xcalloc(nw + 1, sizeof *ww);
	pw = xcalloc(nw + 1, sizeof *pw);
	for (i = 0; i < nw; i++) {
		if ((feat = model_find(&md->feats, w[i])) != NULL)
			for (c = 0; c < md->ncats; c++)
				ww[i][c] = model_catw(md, feat, c);
		if (i + 1 >= nw)
			continue;
		pair = xasprintf("%s_%s", w[i], w[i + 1]);
		if ((feat = model_find(&md->feats, pair)) != NULL)
			for (c = 0; c < md->ncats; c++)
				pw[i][c] = model_catw(md, feat, c);
		free(pair);
	}
	step = W / 2 > 0 ? W / 2 : 1;
	*at = 0;
	for (s = 0; s < nw; s += step) {
		memset(p, 0, sizeof p);
		for (i = s; i < nw && i < s + W; i++) {
			for (c = 0; c < md->ncats; c++)
				p[c] += ww[i][c];
			if (i + 1 >= nw || i + 1 >= s + W)
				continue;
			for (c = 0; c < md->ncats; c++)
				p[c] += pw[i][c];
		}
		for (best = p[0], c = 1; c < md->ncats; c++)
			if (p[c] > best)
				best = p[c];
		for (sum = 0, c = 0; c < md->ncats; c++)
			sum += (p[c] = exp((p[c] - best) / md->temperature));
		if (p[md->recall_cat] / sum > maxp) {
			maxp = p[md->recall_cat] / sum;
			*at = s;
		}
		if (s + W >= nw)
			break;
	}
	free(ww);
	free(pw);
	return (maxp);
}

static void	model_pick_group(const struct model *, unsigned, const double *,
		    struct model_opinion *, char *const *, size_t, struct buf *);

/* The sentence that reads most as the recall-first category. */
struct model_best_sentence {
	const struct sentence_model	*sm;
	double				 p;
	size_t				 at;
};

static void
model_best_one(char *const *w, size_t n, size_t at, void *arg)
{
	struct model_best_sentence	*b = arg;
	double				 p;

	if ((p = sentence_model_score(b->sm, w, n, NULL)) > b->p) {
		b->p = p;
		b->at = at;
	}
}

/* Explain the sentence found by model_best_one: its strongest words. */
struct model_explain_sentence {
	const struct sentence_model	*sm;
	size_t				 at;
	struct buf			*ex;
};

static void
model_explain_one(char *const *w, size_t n, size_t at, void *arg)
{
	struct model_explain_sentence	*x = arg;

	if (at == x->at)
		(void)sentence_model_score(x->sm, w, n, x->ex);
}

void
model_judge(const struct model *md, const struct msg *m, char *const *extra,
    size_t nextra, struct model_opinion *op, struct buf *ex)
{
	const struct model_feat	*feat;
	double			 p[MODEL_MAX_CATS] = { 0 }, best, sum;
	double			 q[MODEL_MAX_TAGS] = { 0 }, wp = 0;
	char			**w, **f;
	size_t			 nw, n, i, c, at = 0, cols[MODEL_MAX_CATS];
	int			 recall = 0;
	struct model_best_sentence bs;
	struct model_explain_sentence xs;

	memset(op, 0, sizeof *op);
	op->cat = op->besides = op->fallback = -1;
	if (md == NULL || md->ncats == 0)
		return;
	/*
	 * Equal priors: the corpus's mix of categories (a fifth of it crisis)
	 * is no inbox's, so only the words decide; a bare "are you taking new
	 * clients?" must not lean to crisis because crisis was common in
	 * training.
	 */
	w = model_text_words(m, &nw);
	f = model_feats(m, w, nw, extra, nextra, &n);
	if (md->recall_cat != -1 && md->window > 0)
		wp = model_window_recall(md, w, nw, &at);
	bs.sm = md->sent;
	bs.p = 0;
	bs.at = 0;
	/*
	 * A bar of 1 turns the sentence vote off; a window that already
	 * voted leaves it nothing to add.
	 */
	if (md->recall_cat != -1 && md->sent != NULL &&
	    sentence_model_bar(md->sent) < 1 &&
	    !(md->window > 0 && wp >= md->window_bar))
		model_sentences(m, model_best_one, &bs);
	xfreev(w, nw);
	for (i = 0; i < n; i++) {
		/* Features the model never saw say nothing. */
		if ((feat = model_find(&md->feats, f[i])) == NULL)
			continue;
		for (c = 0; c < md->ncats; c++)
			p[c] += model_catw(md, feat, c);
		for (c = 0; c < md->ntags; c++)
			q[c] += model_logp(md, feat, md->tagbase + c);
	}
	op->cat = 0;
	for (c = 1; c < md->ncats; c++)
		if (p[c] > p[op->cat])
			op->cat = (int)c;
	best = p[op->cat];
	for (sum = 0, c = 0; c < md->ncats; c++)
		sum += (p[c] = exp((p[c] - best) / md->temperature));
	for (c = 0; c < md->ncats; c++)
		p[c] /= sum;
	op->prob = p[op->cat];
	/*
	 * Where no rule carries a category, a likely choice beats the
	 * default: a one-line cancellation the model reads as a client's
	 * note is no new-client inquiry. Never the recall-first one: its
	 * own bar decides that.
	 */
	if (md->fallback > 0 && op->cat != md->recall_cat &&
	    op->prob >= md->fallback) {
		op->fallback = op->cat;
		op->fallback_prob = op->prob;
	}
	/*
	 * What else the mail reads as: its most probable category but the
	 * recall-first one, even at a low probability, since a crisis vote
	 * takes most of it.
	 */
	for (c = 0; md->besides > 0 && md->recall_cat != -1 && c < md->ncats;
	    c++)
		if ((int)c != md->recall_cat && p[c] >= md->besides &&
		    (op->besides == -1 || p[c] > p[op->besides]))
			op->besides = (int)c;
	/*
	 * The recall-first category gets its points from its own bar alone,
	 * so that bar and the confidence of the others are tuned apart, and
	 * before them: mail that reads 0.65 as a client's note and 0.35 as a
	 * crisis is a crisis until someone has looked. Or from a window of
	 * the text that reads as it, whatever the rest says.
	 */
	if (md->window > 0 && wp >= md->window_bar) {
		op->cat = md->recall_cat;
		op->prob = p[md->recall_cat];
		op->evidence = md->weight;
		op->recall = recall = 2;
	} else if (md->sent != NULL && md->recall_cat != -1 &&
	    sentence_model_bar(md->sent) < 1 &&
	    bs.p >= sentence_model_bar(md->sent)) {
		op->cat = md->recall_cat;
		op->prob = p[md->recall_cat];
		op->evidence = md->weight;
		op->recall = recall = 3;
	} else if (md->recall_cat != -1 && p[md->recall_cat] >= md->recall) {
		op->cat = md->recall_cat;
		op->prob = p[md->recall_cat];
		op->evidence = md->weight;
		op->recall = recall = 1;
	} else if (op->cat != md->recall_cat && op->prob >= md->confidence)
		op->evidence = md->weight;
	if (op->evidence)
		op->of[op->cat] = op->evidence;
	/* Confident, it speaks against the improbable (never crisis). */
	for (c = 0; op->evidence && !recall && c < md->ncats; c++)
		if ((int)c != op->cat && (int)c != md->recall_cat &&
		    p[c] < md->against)
			op->of[c] = -md->weight;
	if (ex != NULL) {
		buf_printf(ex, "model: %s, probability %.2f", md->cats[op->cat],
		    op->prob);
		if (recall == 2)
			buf_printf(ex, " (recall-first: words %zu to %zu of the "
			    "subject and text read as %s, %.2f; a window of "
			    "%zu words needs %.2f)", at + 1,
			    at + md->window < nw ? at + md->window : nw,
			    md->cats[md->recall_cat], wp, md->window,
			    md->window_bar);
		else if (recall == 3) {
			buf_printf(ex, " (recall-first: sentence %zu of the "
			    "subject and text reads as %s, %.2f; a sentence "
			    "needs %.2f", bs.at + 1, md->cats[md->recall_cat],
			    bs.p, sentence_model_bar(md->sent));
			xs.sm = md->sent;
			xs.at = bs.at;
			xs.ex = ex;
			model_sentences(m, model_explain_one, &xs);
			buf_addch(ex, ')');
		} else if (recall)
			buf_printf(ex, " (recall-first: it needs %.2f)",
			    md->recall);
		else if (!op->evidence)
			buf_printf(ex, " (below the %.2f it needs)",
			    op->cat == md->recall_cat ? md->recall :
			    md->confidence);
		if (op->evidence)
			buf_printf(ex, ", evidence %+d", op->evidence);
		for (c = 0; c < md->ncats; c++)
			if (op->of[c] < 0)
				buf_printf(ex, "; against %s, evidence %+d",
				    md->cats[c], op->of[c]);
		if (op->besides != -1)
			buf_printf(ex, "; besides %s, it reads as %s (%.2f)",
			    md->cats[md->recall_cat], md->cats[op->besides],
			    p[op->besides]);
		for (c = 0; c < md->ncats; c++)
			cols[c] = c;
		model_explain(md, f, n, (size_t)op->cat, cols, md->ncats, ex);
	}
	for (c = 1; c <= md->ngroups; c++)
		model_pick_group(md, (unsigned)c, q, op, f, n, ex);
	xfreev(f, n);
}

/*
 * Pick one tag of group g from the summed log likelihoods q (equal
 * priors, the same temperature as the categories) when it is probable
 * enough; with ex, say so and why.
 */
static void
model_pick_group(const struct model *md, unsigned g, const double *q,
    struct model_opinion *op, char *const *f, size_t n, struct buf *ex)
{
	double	p[MODEL_MAX_TAGS], sum = 0;
	size_t	cols[MODEL_MAX_TAGS], k, t, nt = 0, best = 0;

	for (t = 0; t < md->ntags; t++) {
		if (md->group[t] != g)
			continue;
		cols[nt++] = md->tagbase + t;
		if (nt == 1 || q[t] > q[best])
			best = t;
	}
	for (t = 0; t < md->ntags; t++)
		if (md->group[t] == g)
			sum += (p[t] = exp((q[t] - q[best]) / md->temperature));
	for (t = 0; t < md->ntags; t++)
		if (md->group[t] == g)
			op->picked[t] = p[best] / sum < md->pick ? 0 :
			    t == best ? 1 : -1;
	if (ex == NULL)
		return;
	buf_addstr(ex, "model, of");
	for (k = 0, t = 0; t < md->ntags; t++)
		if (md->group[t] == g)
			buf_printf(ex, "%s %s", k++ > 0 ? " or" : "",
			    md->tags[t]);
	buf_printf(ex, ": %s, probability %.2f (%s %.2f; ", md->tags[best],
	    p[best] / sum, op->picked[best] ? "picked, it needs" :
	    "not picked: it needs", md->pick);
	if (md->fill[g] != NULL)
		buf_printf(ex, "it fills in where a verdict of %s carries none "
		    "of them)", md->fill[g]);
	else
		buf_addstr(ex, "it applies where the rules set one of them)");
	model_explain(md, f, n, md->tagbase + best, cols, nt, ex);
}

int
model_has_group(const struct model *md, const char *const *tags, size_t n)
{
	size_t		i, t, k;
	unsigned	g = 0;

	for (i = 0; i < n; i++) {
		for (t = 0; t < md->ntags; t++)
			if (strcmp(md->tags[t], tags[i]) == 0)
				break;
		if (t == md->ntags || (g != 0 && md->group[t] != g))
			return (0);
		g = md->group[t];
	}
	for (k = 0, t = 0; t < md->ntags; t++)
		k += md->group[t] == g;
	return (n > 0 && k == n);
}

unsigned long
model_groups_whole(const struct model *md, char *const *tags, size_t ntags)
{
	unsigned long	 whole = 0;
	unsigned	 n[MODEL_MAX_TAGS + 1] = { 0 };
	int		 seen[MODEL_MAX_TAGS] = { 0 };
	size_t		 i, t;

	/* Distinct tags of each group: "tag self self" is not both. */
	for (i = 0; md != NULL && i < ntags; i++)
		for (t = 0; t < md->ntags; t++)
			if (!seen[t] && strcmp(tags[i], md->tags[t]) == 0) {
				seen[t] = 1;
				if (++n[md->group[t]] == 2 &&
				    md->group[t] < sizeof whole * CHAR_BIT)
					whole |= 1UL << md->group[t];
			}
	return (whole);
}

void
model_apply_picks(const struct model *md, const struct model_opinion *op,
    unsigned long keep, char ***tags, size_t *ntags)
{
	size_t		 i, k, t, win;
	unsigned	 g;
	int		 seen;

	for (g = 1; md != NULL && g <= md->ngroups; g++) {
		if (g < sizeof keep * CHAR_BIT && (keep & (1UL << g)) != 0)
			continue;
		for (win = SIZE_MAX, seen = 0, t = 0; t < md->ntags; t++) {
			if (md->group[t] != g)
				continue;
			if (op->picked[t] == 1)
				win = t;
			for (i = 0; i < *ntags; i++)
				if (strcmp((*tags)[i], md->tags[t]) == 0)
					seen = 1;
		}
		if (!seen || win == SIZE_MAX)
			continue;
		for (i = 0, k = 0; i < *ntags; i++) {
			for (t = 0; t < md->ntags; t++)
				if (md->group[t] == g &&
				    strcmp((*tags)[i], md->tags[t]) == 0)
					break;
			if (t < md->ntags)
				free((*tags)[i]);
			else
				(*tags)[k++] = (*tags)[i];
		}
		*tags = xreallocarray(*tags, k + 1, sizeof **tags);
		(*tags)[k++] = xstrdup(md->tags[win]);
		*ntags = k;
	}
}

void
model_set_fill(struct model *md, unsigned g, const char *category)
{
	if (md == NULL || g == 0 || g > md->ngroups)
		return;
	free(md->fill[g]);
	md->fill[g] = xstrdup(category);
}

unsigned
model_group_of(const struct model *md, const char *tag)
{
	size_t	t;

	for (t = 0; md != NULL && t < md->ntags; t++)
		if (strcmp(md->tags[t], tag) == 0)
			return (md->group[t]);
	return (0);
}

const char *
model_fill(const struct model *md, const struct model_opinion *op,
    unsigned g, char ***tags, size_t *ntags)
{
	size_t	i, t, win = SIZE_MAX;

	for (t = 0; md != NULL && g != 0 && t < md->ntags; t++) {
		if (md->group[t] != g)
			continue;
		for (i = 0; i < *ntags; i++)
			if (strcmp((*tags)[i], md->tags[t]) == 0)
				return (NULL);
		if (op->picked[t] == 1)
			win = t;
	}
	if (win == SIZE_MAX)
		return (NULL);
	*tags = xreallocarray(*tags, *ntags + 1, sizeof **tags);
	(*tags)[(*ntags)++] = xstrdup(md->tags[win]);
	return (md->tags[win]);
}

struct model_train *
model_train_new(void)
{
	struct model_train	*t;

	t = xcalloc(1, sizeof *t);
	t->m.tagbase = MODEL_MAX_CATS;
	return (t);
}

int
model_train_choose(struct model_train *t, const char *const *tags,
    size_t ntags)
{
	struct model	*md = &t->m;
	size_t		 i, k;

	if (ntags < 2 || md->ntags + ntags > MODEL_MAX_TAGS)
		return (-1);
	for (i = 0; i < ntags; i++)
		for (k = 0; k < md->ntags; k++)
			if (strcmp(tags[i], md->tags[k]) == 0)
				return (-1);
	md->ngroups++;
	for (i = 0; i < ntags; i++) {
		md->tags[md->ntags] = xstrdup(tags[i]);
		md->group[md->ntags++] = md->ngroups;
	}
	return (0);
}

/* The one tag of group g among labels, or -1 (none, or several). */
static int
model_label_tag(const struct model *md, unsigned g, char *const *labels,
    size_t nlabels)
{
	size_t	i, t;
	int	found = -1;

	for (t = 0; t < md->ntags; t++) {
		if (md->group[t] != g)
			continue;
		for (i = 0; i < nlabels; i++) {
			if (strcmp(labels[i], md->tags[t]) != 0)
				continue;
			if (found != -1)
				return (-1);
			found = (int)t;
		}
	}
	return (found);
}

void
model_train_add(struct model_train *t, const struct msg *m,
    char *const *extra, size_t nextra, const char *category,
    char *const *labels, size_t nlabels)
{
	struct model		*md = &t->m;
	struct model_feat	*feat;
	char			**w, **f;
	size_t			 nw, n, i, k, ntag = 0;
	int			 c, tag[MODEL_MAX_TAGS];
	unsigned		 g;

	if ((c = model_cat_index(md, category, 1)) == -1)
		return;
	md->docs[c]++;
	/* A message teaches a group only when its label has one tag of it. */
	for (g = 1; g <= md->ngroups; g++)
		if ((tag[ntag] = model_label_tag(md, g, labels, nlabels)) != -1)
			md->tdocs[tag[ntag++]]++;
	w = model_text_words(m, &nw);
	f = model_feats(m, w, nw, extra, nextra, &n);
	xfreev(w, nw);
	for (i = 0; i < n; i++) {
		feat = model_add(&md->feats, f[i],
		    MODEL_MAX_CATS + MODEL_MAX_TAGS);
		feat->count[c]++;
		md->tokens[c]++;
		for (k = 0; k < ntag; k++) {
			feat->count[md->tagbase + (size_t)tag[k]]++;
			md->ttokens[tag[k]]++;
		}
		free(f[i]);
	}
	free(f);
}

void
model_train_recall(struct model_train *t, const char *category)
{
	free(t->sent_cat);
	t->sent_cat = xstrdup(category);
	if (t->st == NULL)
		t->st = sentence_train_new();
}

/*
 * What teaches the sentence model one message: in mail of the
 * recall-first category, the rules' matches that mark its crisis
 * sentences; in other mail, every sentence as a counter-example.
 */
struct model_marked {
	struct sentence_train	*st;
	char			**mark;	/* the rules' matches, as words */
	size_t			 *nmark;
	size_t			  n;
	int			  negative;	/* every sentence teaches "not" */
};

/* Is the run of words a[0..na) found in b[0..nb)? */
static int
model_run_in(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t	i, k;

	for (i = 0; na > 0 && i + na <= nb; i++) {
		for (k = 0; k < na && strcmp(a[k], b[i + k]) == 0; k++)
			;
		if (k == na)
			return (1);
	}
	return (0);
}

static void
model_marked_one(char *const *w, size_t n, size_t at, void *arg)
{
	struct model_marked	*mk = arg;
	char			**m = mk->mark;
	size_t			  i;

	if (mk->negative) {
		sentence_train_add(mk->st, w, n, 0);
		return;
	}
	/*
	 * It reads as crisis when a rule's match lies in it, or when it lies
	 * in a match that runs over several sentences (three words at least:
	 * not a greeting before it).
	 */
	for (i = 0; i < mk->n; m += mk->nmark[i], i++)
		if (model_run_in(m, mk->nmark[i], w, n) ||
		    (n >= 3 && model_run_in(w, n, m, mk->nmark[i]))) {
			sentence_train_add(mk->st, w, n, 1);
			return;
		}
}

void
model_train_sentences(struct model_train *t, const struct msg *flat,
    const char *category, char *const *marks, size_t nmarks, int acceptable)
{
	struct model_marked	 mk;
	struct sb_stemmer	*stem;
	size_t			 i, before;

	if (t->st == NULL || category == NULL)
		return;
	memset(&mk, 0, sizeof mk);
	mk.st = t->st;
	if (strcmp(category, t->sent_cat) != 0) {
		/* The tolerated ones (a denial, an old attempt) teach nothing. */
		if (acceptable)
			return;
		mk.negative = 1;
		model_sentences(flat, model_marked_one, &mk);
		return;
	}
	stem = sb_stemmer_new("english", "UTF_8");
	mk.nmark = xcalloc(nmarks + 1, sizeof *mk.nmark);
	for (i = 0; i < nmarks; i++) {
		before = mk.n;
		model_words(stem, marks[i], &mk.mark, &mk.n,
		    before + MODEL_SENTENCE_WORDS);
		mk.nmark[i] = mk.n - before;
	}
	sb_stemmer_delete(stem);
	i = mk.n;
	mk.n = nmarks;
	model_sentences(flat, model_marked_one, &mk);
	xfreev(mk.mark, i);
	free(mk.nmark);
}

int
model_train_write(struct model_train *t, const char *path,
    const char *recall_cat, char **cause)
{
	struct model_feat	*f;
	FILE			*fp;
	char			*tmp;
	size_t			 i, c;
	unsigned long		 total;

	tmp = xasprintf("%s.tmp", path);
	if ((fp = fopen(tmp, "w")) == NULL) {
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
		free(tmp);
		return (-1);
	}
	fprintf(fp, "%s\n# Written by triaged train: a complement naive Bayes "
	    "model over words, word pairs and\n# the rules that matched, and a "
	    "sentence model the crisis rules taught.\n# Train again after "
	    "changing the rules or the corpus; only the evidence,\n# recall, "
	    "against, besides, fallback, smoothing, temperature, kind and\n"
	    "# window lines and the first number of the sentence line may be "
	    "tuned.\n", MODEL_MAGIC);
	fprintf(fp, "evidence %d %.2f\n", MODEL_WEIGHT, MODEL_CONFIDENCE);
	fprintf(fp, "smoothing %.2f\n", MODEL_SMOOTHING);
	fprintf(fp, "temperature %.2f\n", MODEL_TEMPERATURE);
	fprintf(fp, "kind complement\n");
	if (recall_cat != NULL && model_cat_index(&t->m, recall_cat, 0) != -1)
		fprintf(fp, "recall %s %.2f\nwindow %d %.2f\n", recall_cat,
		    MODEL_RECALL, MODEL_WINDOW, MODEL_WINDOW_BAR);
	fprintf(fp, "against %.2f\n", MODEL_AGAINST);
	fprintf(fp, "besides %.2f\n", MODEL_BESIDES);
	fprintf(fp, "fallback %.2f\n", MODEL_FALLBACK);
	if (t->m.ntags > 0)
		fprintf(fp, "pick %.2f\n", MODEL_PICK);
	if (t->st != NULL && sentence_train_positives(t->st) > 0 &&
	    recall_cat != NULL && strcmp(recall_cat, t->sent_cat) == 0)
		sentence_train_write(t->st, fp, MODEL_SENTENCE_BAR);
	for (c = 0; c < t->m.ncats; c++)
		fprintf(fp, "category %s %u %lu\n", t->m.cats[c],
		    t->m.docs[c], t->m.tokens[c]);
	for (c = 0; c < t->m.ntags; c++)
		fprintf(fp, "tag %s %u %u %lu\n", t->m.tags[c], t->m.group[c],
		    t->m.tdocs[c], t->m.ttokens[c]);
	for (i = 0; t->m.feats.bucket != NULL && i < MODEL_HASH; i++) {
		for (f = t->m.feats.bucket[i]; f != NULL; f = f->next) {
			for (total = 0, c = 0; c < t->m.ncats; c++)
				total += f->count[c];
			if (total < MODEL_MIN_COUNT)
				continue;
			fprintf(fp, "f %s", f->name);
			for (c = 0; c < t->m.ncats; c++)
				fprintf(fp, " %u", f->count[c]);
			for (c = 0; c < t->m.ntags; c++)
				fprintf(fp, " %u",
				    f->count[t->m.tagbase + c]);
			fputc('\n', fp);
		}
	}
	if (fflush(fp) != 0 || ferror(fp) || fclose(fp) != 0 ||
	    rename(tmp, path) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return (-1);
	}
	free(tmp);
	return (0);
}

void
model_train_free(struct model_train *t)
{
	if (t == NULL)
		return;
	model_clear(&t->m);
	sentence_train_free(t->st);
	free(t->sent_cat);
	free(t);
}
