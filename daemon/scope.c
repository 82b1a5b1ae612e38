/*
 * Negation and past-time scope for "asserted" patterns (scope.h).
 *
 * Negated: one of the eight words before the match, in its clause, is a
 * negator ("not", "no", "never", "don't", "no tengo", ...), and no word
 * between that negator and the match turns it into something else
 * ("can't stop", "don't know", "no one knows", "don't want to", "never
 * felt this", "didn't mean to"). Modal
 * negations ("can't", "won't", "couldn't") are no negators: "I can't go
 * on" is not a denial.
 *
 * Past: the match's sentence names a time that is over ("years ago",
 * "when I was 19", "at 16", "in high school", "back then", "con 19 años",
 * "in 2015": a year three or more years back)
 * and nothing that is now ("again", "lately", "still", "tonight", "last
 * night").
 *
 * Both lean to asserted: a word list that misses a denial costs a kind
 * crisis reply; one that invents a denial could cost a missed crisis.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scope.h"

#define SCOPE_WORDS	8	/* words before a match a negator reaches */
#define SCOPE_WORDLEN	24

static const char *const scope_negators[] = {
	"not", "no", "never", "nor", "without", "dont", "doesnt", "didnt",
	"isnt", "arent", "wasnt", "werent", "havent", "hasnt", "hadnt",
	"aint", "deny", "denies", "denied", "nunca", "ni", "jamas", "jamás",
	"sin", "nao", "não", NULL
};

/*
 * Words that, between a negator and the match, mean the negation is about
 * something else: "don't know if I'm suicidal", "no one knows I'm
 * cutting", "not sure I won't hurt myself", "don't want to die but".
 */
static const char *const scope_breakers[] = {
	"stop", "stopping", "help", "keep", "keeps", "know", "knows", "knew",
	"sure", "want", "wanna", "wanted", "care", "cares", "one", "body",
	"idea", "matter", "way", "reason", "longer", "more", "anymore",
	"trust", "think", "thinks", "mind", "tell", "told", "telling", "see",
	"wait", "cope", "handle", "take", "bear", "stand", "resist", "fight",
	"control", "until", "unless", "if", "whether", "why", "because",
	"but", "sé", "se", "quiero", "puedo", "aguanto", "nadie", "aunque",
	"sino", "pero", "hasta", "just", "only", "even", "this", "so",
	"such", "as", "than", "like", "before", "ever", "afraid", "scared",
	"able", "worth", "deserve", "mean", "meant", "intend", "intended",
	"plan", "planned", "expect", "expected", "realize", "realise", NULL
};

/* A sentence or clause ends at these; "but" ends a clause too. */
static int
scope_boundary(char c)
{
	return (c == '.' || c == '!' || c == '?' || c == ';' || c == '\n');
}

static int
scope_in(const char *const *list, const char *w)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, w) == 0)
			return (1);
	return (0);
}

/*
 * The word ending just before *pos (moving *pos to its start), lower-cased
 * ASCII with apostrophes dropped, into w (SCOPE_WORDLEN bytes). 0 when
 * the clause ends first.
 */
static int
scope_prev_word(const char *text, size_t *pos, char *w)
{
	size_t	i = *pos, end, n = 0, k;

	while (i > 0 && !scope_boundary(text[i - 1]) &&
	    !isalnum((unsigned char)text[i - 1]) &&
	    (unsigned char)text[i - 1] < 0x80 && text[i - 1] != '\'')
		i--;
	if (i == 0 || scope_boundary(text[i - 1]))
		return (0);
	end = i;
	while (i > 0 && (isalnum((unsigned char)text[i - 1]) ||
	    (unsigned char)text[i - 1] >= 0x80 || text[i - 1] == '\''))
		i--;
	*pos = i;
	for (k = i; k < end && n < SCOPE_WORDLEN - 1; k++) {
		/* "’" (e2 80 99) and "'" are dropped: "don’t" is "dont". */
		if (text[k] == '\'')
			continue;
		if ((unsigned char)text[k] == 0xe2 && k + 2 < end &&
		    (unsigned char)text[k + 1] == 0x80 &&
		    (unsigned char)text[k + 2] == 0x99) {
			k += 2;
			continue;
		}
		w[n++] = (char)tolower((unsigned char)text[k]);
	}
	w[n] = '\0';
	return (1);
}

/* Is the match at start negated within its clause? */
static int
scope_negated(const char *text, size_t start)
{
	char	w[SCOPE_WORDLEN];
	size_t	pos = start;
	int	i;

	for (i = 0; i < SCOPE_WORDS; i++) {
		if (!scope_prev_word(text, &pos, w))
			return (0);
		if (scope_in(scope_breakers, w))
			return (0);
		if (scope_in(scope_negators, w))
			return (1);
	}
	return (0);
}

/* Does phrase (n bytes, '#' any digit) start at p, ignoring ASCII case? */
static int
scope_at(const char *p, const char *phrase, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (phrase[i] == '#' ? !isdigit((unsigned char)p[i]) :
		    tolower((unsigned char)p[i]) != phrase[i])
			return (0);
	}
	return (1);
}

/* Is phrase (n bytes) at p, inside s..end, a whole word there? */
static int
scope_word_at(const char *s, const char *end, const char *p,
    const char *phrase, size_t n)
{
	return (p + n <= end && scope_at(p, phrase, n) &&
	    (p == s || !isalnum((unsigned char)p[-1])) &&
	    (p + n == end || !isalnum((unsigned char)p[n])));
}

/* Does s (len bytes) contain any of the phrases, as whole words? */
static int
scope_has(const char *s, size_t len, const char *const *phrases)
{
	const char	*p, *end = s + len;
	size_t		 n;

	for (; *phrases != NULL; phrases++) {
		n = strlen(*phrases);
		for (p = s; p + n <= end; p++)
			if (scope_word_at(s, end, p, *phrases, n))
				return (1);
	}
	return (0);
}

static const char *const scope_past[] = {
	"years ago", "year ago", "decades ago", "decade ago", "long ago",
	"long time ago", "when i was", "as a teen", "as a teenager",
	"as a kid", "as a child", "in high school", "in middle school",
	"in college", "in my teens", "in my twenties", "in my early twenties",
	"back then", "back in", "in the past", "since then", "years back",
	"cuando era", "hace años", "hace muchos años", "en el pasado",
	"de adolescente", "at ##", "at age ##", "aged ##", "when i was ##",
	"con ## años", "a los ## años", "cuando tenía", "de joven",
	"en la adolescencia", "en la universidad", "en la prepa",
	"a los ##", NULL
};

/*
 * A year that is over: three or more years before this one ("an attempt
 * in 2015", "after 1994", "en 2019"); the last two years may still be now.
 */
static const char *const scope_year_words[] = { "in ####", "en ####",
    "after ####", "despues de ####", "después de ####", NULL };

static int
scope_past_year(const char *s, size_t len)
{
	const char	*const *w, *p, *end = s + len;
	struct tm	 tm;
	time_t		 now = time(NULL);
	size_t		 n;
	int		 year;

	if (gmtime_r(&now, &tm) == NULL)
		return (0);
	for (w = scope_year_words; *w != NULL; w++) {
		n = strlen(*w);
		for (p = s; p + n <= end; p++) {
			if (!scope_word_at(s, end, p, *w, n))
				continue;
			year = atoi(p + n - 4);
			if (year >= 1900 && year <= tm.tm_year + 1900 - 3)
				return (1);
		}
	}
	return (0);
}

static const char *const scope_now[] = {
	"again", "lately", "recently", "currently", "still", "tonight",
	"today", "this week", "this month", "this morning", "this year",
	"last night", "last week", "last month", "right now", "these days",
	"anymore", "any more", "starting to", "coming back", "came back",
	"otra vez", "de nuevo", "últimamente", "ahora mismo", "todavía",
	"anoche", "hoy", NULL
};

/* Is the sentence around the match about a time that is over? */
static int
scope_past_only(const char *text, size_t start, size_t end)
{
	size_t	s = start, e = end;

	while (s > 0 && !scope_boundary(text[s - 1]))
		s--;
	while (text[e] != '\0' && !scope_boundary(text[e]))
		e++;
	return ((scope_has(text + s, e - s, scope_past) ||
	    scope_past_year(text + s, e - s)) &&
	    !scope_has(text + s, e - s, scope_now));
}

int
scope_asserted(const char *text, size_t start, size_t end)
{
	return (!scope_negated(text, start) &&
	    !scope_past_only(text, start, end));
}
