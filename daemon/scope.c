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
 * night"). "Since then" is no past: it runs up to now ("since then he's
 * been telling me next time I should let him go").
 *
 * Feared, not wished: dying that the writer is afraid of or convinced
 * will happen to them ("convinced I'm about to die in the checkout line",
 * "terrified I'm going to die of this"): health anxiety and panic. Only
 * for a match that ends in dying with no wish in it ("want to die",
 * "ready to die" stay), never for an act ("kill myself", "end it").
 *
 * Screened and denied: the match is what someone asked about, a
 * screening question ("the doctor asked whether I have thoughts of ending
 * my life"), and the answer given is no ("and I told her the truth, which
 * is no", "I've had none", "he said no"), unless the writer takes it back
 * ("I said no but I lied", "she said yes").
 *
 * Said of a group, not of someone: the match follows a plural or generic
 * subject close before it in its clause ("clients who are having
 * suicidal thoughts", "teens who self-harm", "anyone who is suicidal
 * should call 988"): a student's interview, a workshop, a colleague's
 * question. Never when a first-person word comes between ("people like
 * me who want to die"), the writer counts themself in ("one of those
 * people who"), or the group is the writer's own ("my kids", "our
 * teens"; a clinician's "my clients" stays generic).
 *
 * Both lean to asserted: a word list that misses a denial costs a kind
 * crisis reply; one that invents a denial could cost a missed crisis.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "scope.h"

#define SCOPE_WORDS	8	/* words before a match a negator reaches */
#define SCOPE_WORDLEN	24

static const char *const scope_negators[] = {
	"not", "no", "never", "nor", "without", "dont", "doesnt", "didnt",
	"isnt", "arent", "wasnt", "werent", "havent", "hasnt", "hadnt",
	"aint", "deny", "denies", "denied", "denying", "nunca", "ni", "jamas", "jamás",
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

#define SCOPE_GROUP_WORDS	5	/* words back to a group subject */

/* Plural or generic subjects: the topic of someone's work or studies. */
static const char *const scope_groups[] = {
	"clients", "patients", "people", "individuals", "persons", "folks",
	"adolescents", "teens", "teenagers", "youth", "youths", "students",
	"veterans", "callers", "survivors", "anyone", "anybody", "those",
	"populations", "clinicians", "men", "women", "adults", NULL
};

/* The writer, between a group and the match: "people like me who". */
static const char *const scope_first_person[] = {
	"i", "im", "me", "my", "myself", "mine", "ive", "id", "ill", NULL
};

/* Before a group: the writer's own ("my kids") or one of them. */
static const char *const scope_owners[] = {
	"my", "our", "his", "her", "their", "your", "one", "of", NULL
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
	"back then", "back in", "in the past", "years back",
	"cuando era", "hace años", "hace muchos años", "en el pasado",
	"de adolescente", "at ##", "at age ##", "aged ##", "when i was ##",
	"con ## años", "a los ## años", "cuando tenía", "de joven",
	"en la adolescencia", "en la universidad", "en la prepa",
	"a los ##", NULL
};

/*
 * A year that is over: three or more years before this one ("an attempt
 * in 2015", "after 1994", "en 2019", "in spring 2021"); the last two
 * years may still be now.
 */
static const char *const scope_year_words[] = { "in ####", "en ####",
    "after ####", "despues de ####", "después de ####", "of ####",
    "spring ####", "summer ####", "fall ####", "autumn ####",
    "winter ####", "early ####", "late ####", "january ####",
    "february ####", "march ####", "april ####", "may ####", "june ####",
    "july ####", "august ####", "september ####", "october ####",
    "november ####", "december ####", NULL };

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

/* Fear or certainty of dying, in the words before it. */
static const char *const scope_fear[] = {
	"afraid", "scared", "terrified", "frightened", "worried", "worry",
	"panic", "panicking", "convinced", "paranoid", "fear", "fears",
	"feared", "attack", "stroke", "seizure", NULL	/* "a heart attack" */
};

/* A wish or a readiness in the match itself: "scared I want to die". */
static const char *const scope_wish[] = {
	"want", "wanna", "wanted", "wish", "hope", "pray", "ready", "plan",
	"rather", "should", "deserve", "going to kill", NULL
};

/* Ways to die by one's own act: then the fear frame does not hold. */
static const char *const scope_own_act[] = {
	"by my own hand", "by suicide", "on purpose", "if i do", "if i go",
	"if i take", "unless", NULL
};

/*
 * Does the match end in dying ("die", "dying"), with a word of fear or
 * certainty among the six words before it in its clause?
 */
static int
scope_feared(const char *text, size_t start, size_t end)
{
	char	w[SCOPE_WORDLEN];
	size_t	pos = start, e = end;
	int	i;

	if (!(end >= 3 && strncasecmp(text + end - 3, "die", 3) == 0) &&
	    !(end >= 5 && strncasecmp(text + end - 5, "dying", 5) == 0))
		return (0);
	if (scope_has(text + start, end - start, scope_wish))
		return (0);
	while (text[e] != '\0' && !scope_boundary(text[e]) && e - end < 40)
		e++;
	if (scope_has(text + end, e - end, scope_own_act))
		return (0);
	for (i = 0; i < 6; i++) {
		if (!scope_prev_word(text, &pos, w))
			return (0);
		if (scope_in(scope_fear, w))
			return (1);
	}
	return (0);
}

/* A question someone asked, or a screening, before the match. */
static const char *const scope_asked[] = {
	"asked", "asks", "asking", "ask", "screened", "screening",
	"screener", "questionnaire", "the question", "checked whether",
	"checked if", "me preguntó", "me pregunto", "le pregunté",
	"le pregunte", "preguntó", "preguntaron", NULL
};

/* The answer: no. */
static const char *const scope_said_no[] = {
	"said no", "says no", "answered no", "replied no", "answer was no",
	"answer is no", "which is no", "which was no",
	"told her no", "told him no", "told them no", "had none", "have none",
	"has none", "points to no", "pointed to no", "he denied", "she denied",
	"they denied", "i denied", "denied it", "denied any", "denied having",
	"dije que no", "dijo que no", "respondí que no", "contestó que no",
	"contesté que no", NULL
};

/* ... unless taken back. */
static const char *const scope_said_yes[] = {
	"said yes", "says yes", "answered yes", "admitted", "lied", "lying",
	"not true", "not honest", "wasnt honest", "wasn't honest",
	"dije que sí", "dijo que sí", "mentí", "mintió", NULL
};

/*
 * Is the match at start said of a group (a plural or generic subject a
 * few words before it, in its clause), not of the writer or someone
 * they know?
 */
static int
scope_generic(const char *text, size_t start)
{
	char	w[SCOPE_WORDLEN], o[SCOPE_WORDLEN];
	size_t	pos = start, at;
	int	i, k;

	for (i = 0; i < SCOPE_GROUP_WORDS; i++) {
		if (!scope_prev_word(text, &pos, w) ||
		    scope_in(scope_first_person, w))
			return (0);
		if (!scope_in(scope_groups, w))
			continue;
		/* "my clients" is a clinician's caseload; "my teens" is not. */
		at = pos;
		if (scope_prev_word(text, &at, o) && scope_in(scope_owners, o) &&
		    !((strcmp(o, "my") == 0 || strcmp(o, "our") == 0) &&
		    (strcmp(w, "clients") == 0 || strcmp(w, "patients") == 0)))
			return (0);
		/* "one of those people who": the writer counts themself in. */
		for (k = 0; k < 3 && scope_prev_word(text, &at, o); k++)
			if (strcmp(o, "one") == 0)
				return (0);
		return (1);
	}
	return (0);
}

#define SCOPE_ASKED_BACK	240	/* bytes back to the question */
#define SCOPE_ANSWER_AHEAD	240	/* bytes on to the answer */

/*
 * Does a hard stop (., !, ? or a blank line) end the text at i? Line
 * breaks alone do not: mail is wrapped at 72 columns mid-sentence.
 */
static int
scope_stop(const char *text, size_t i)
{
	return (text[i] == '.' || text[i] == '!' || text[i] == '?' ||
	    (text[i] == '\n' && text[i + 1] == '\n'));
}

/*
 * Is an answer of s..end given there? One ending in "no" or "none" must
 * end its clause too: "he said no, ..." but not "he said no one cares".
 */
static int
scope_answered_no(const char *s, size_t len)
{
	const char	*const *a, *p, *q, *end = s + len;
	size_t		 n;

	for (a = scope_said_no; *a != NULL; a++) {
		n = strlen(*a);
		for (p = s; p + n <= end; p++) {
			if (!scope_word_at(s, end, p, *a, n))
				continue;
			if (n < 5 || (strcmp(*a + n - 3, " no") != 0 &&
			    strcmp(*a + n - 5, " none") != 0))
				return (1);
			for (q = p + n; q < end && *q == ' '; q++)
				;
			if (q == end || !isalpha((unsigned char)*q))
				return (1);
		}
	}
	return (0);
}

/* Was the match asked about and answered no? */
static int
scope_screened_no(const char *text, size_t start, size_t end)
{
	size_t	s = start, e = end, stops = 0;

	while (s > 0 && start - s < SCOPE_ASKED_BACK && !scope_stop(text,
	    s - 1))
		s--;
	if (!scope_has(text + s, start - s, scope_asked))
		return (0);
	/* The answer: in the match's sentence or the next one. */
	while (text[e] != '\0' && e - end < SCOPE_ANSWER_AHEAD) {
		if (scope_stop(text, e) && ++stops == 2)
			break;
		e++;
	}
	return (scope_answered_no(text + end, e - end) &&
	    !scope_has(text + s, e - s, scope_said_yes));
}

int
scope_asserted(const char *text, size_t start, size_t end)
{
	return (!scope_negated(text, start) &&
	    !scope_generic(text, start) &&
	    !scope_past_only(text, start, end) &&
	    !scope_feared(text, start, end) &&
	    !scope_screened_no(text, start, end));
}
