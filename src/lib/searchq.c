/*
 * searchq.c - the search operator syntax (searchq.h). The tokens are those
 * of the original's regular expression, tried at each position in order:
 *   1. key:"value"   key of [a-z_]+, value up to the next "
 *   2. "text"        free text (so "foo:bar" is not an operator)
 *   3. a run of non-whitespace: key:value when it is [a-z_]+ ":" and at
 *      least one more character, else a free word
 * where whitespace is Python's (str.isspace), dates are read as Python's
 * strptime('%Y-%m-%d') reads them, and the "Did you mean" suggestion is
 * difflib.get_close_matches(key, operators, n=1, cutoff=0.6).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "difflib.h"
#include "pyunicode.h"
#include "searchq.h"

const struct searchq_opdef searchq_ops[] = {
	{ "created_before", SEARCHQ_BEFORE },
	{ "created_after", SEARCHQ_AFTER },
	{ "modified_before", SEARCHQ_BEFORE },
	{ "modified_after", SEARCHQ_AFTER },
	{ "published_before", SEARCHQ_BEFORE },
	{ "published_after", SEARCHQ_AFTER },
	{ "species", SEARCHQ_TEXT },
	{ "approach", SEARCHQ_TEXT },
	{ "technique", SEARCHQ_TEXT },
	{ "file_type", SEARCHQ_FILE_TYPE },
	{ "owner", SEARCHQ_TEXT },
};
const size_t searchq_nops = sizeof(searchq_ops) / sizeof(searchq_ops[0]);

/* file_type's short names (compared in lower case) and their prefixes. */
static const char *const file_type_aliases[][2] = {
	{ "nwb", "application/x-nwb" },
	{ "image", "image/" },
	{ "text", "text/" },
	{ "video", "video/" },
};

static bool
is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

/* Length of the [a-z_]+ run at s (0: none). */
static size_t
key_run(const char *s)
{
	size_t n = 0;

	while (is_key_char(s[n]))
		n++;
	return n;
}

/* The definition of key (len bytes), or NULL with *err set to the
 * unknown-operator message. */
static const struct searchq_opdef *
op_lookup(struct arena *a, const char *key, size_t len, const char **err)
{
	const char *names[sizeof(searchq_ops) / sizeof(searchq_ops[0])];
	const char *k = arena_strndup(a, key, len), *hint;

	for (size_t i = 0; i < searchq_nops; i++) {
		if (strcmp(k, searchq_ops[i].key) == 0)
			return &searchq_ops[i];
		names[i] = searchq_ops[i].key;
	}
	hint = difflib_close_match(k, names, searchq_nops, 0.6);
	*err = arena_printf(a, "Unknown search operator \"%s\".%s%s%s Wrap the term in double quotes"
	    " (e.g. \"foo:bar\") to search for it as text.", k,
	    hint ? " Did you mean \"" : "", hint ? hint : "", hint ? "\"?" : "");
	return NULL;
}

/* Room for one more in an array of n in the arena: 4, then doubled when
 * full (old copies stay in the arena until the request ends, which is
 * fine for a search's few tokens). */
static void *
grow(struct arena *a, void *v, size_t n, size_t size)
{
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {	/* 0, 4, 8, 16...: full */
		void *w = arena_alloc(a, (n ? 2 * n : 4) * size);
		if (n > 0)
			memcpy(w, v, n * size);
		return w;
	}
	return v;
}

static void
add_word(struct arena *a, struct searchq *q, const char *s, size_t len)
{
	q->words = grow(a, q->words, q->nwords, sizeof(*q->words));
	q->words[q->nwords++] = arena_strndup(a, s, len);
}

static void
add_op(struct arena *a, struct searchq *q, const struct searchq_opdef *def, const char *v,
    size_t len)
{
	q->ops = grow(a, q->ops, q->nops, sizeof(*q->ops));
	q->ops[q->nops].def = def;
	q->ops[q->nops++].value = arena_strndup(a, v, len);
}

int
searchq_parse(struct arena *a, const char *text, struct searchq *q, const char **err)
{
	const char *p = text;
	size_t quotes = 0, chars;

	memset(q, 0, sizeof(*q));
	*err = NULL;
	if (*text == '\0')
		return 0;
	if ((chars = py_len(text)) > SEARCHQ_MAX_CHARS) {
		*err = arena_printf(a, "Search query is too long (%zu characters; max %d).",
		    chars, SEARCHQ_MAX_CHARS);
		return -1;
	}
	for (const char *c = text; *c; c++)
		quotes += *c == '"';
	if (quotes % 2 != 0) {
		*err = "Unbalanced quote in search query. Remove the stray quote, or wrap the"
		    " intended phrase in matched quotes.";
		return -1;
	}
	while (*p) {
		size_t k = key_run(p);
		const char *close, *end, *next;
		const struct searchq_opdef *def;

		/* 1. key:"value" */
		if (k > 0 && p[k] == ':' && p[k + 1] == '"' &&
		    (close = strchr(p + k + 2, '"')) != NULL) {
			if ((def = op_lookup(a, p, k, err)) == NULL)
				return -1;
			add_op(a, q, def, p + k + 2, (size_t)(close - (p + k + 2)));
			p = close + 1;
			continue;
		}
		/* 2. "text" */
		if (*p == '"' && (close = strchr(p + 1, '"')) != NULL) {
			add_word(a, q, p + 1, (size_t)(close - (p + 1)));
			p = close + 1;
			continue;
		}
		/* whitespace between tokens */
		next = p;
		if (py_isspace(utf8_next(&next))) {
			p = next;
			continue;
		}
		/* 3. a run of non-whitespace */
		end = next;
		for (const char *c = end; *c && !py_isspace(utf8_next(&c));)
			end = c;
		if (k > 0 && p[k] == ':' && p + k + 1 < end) {
			if ((def = op_lookup(a, p, k, err)) == NULL)
				return -1;
			add_op(a, q, def, p + k + 1, (size_t)(end - (p + k + 1)));
		} else
			add_word(a, q, p, (size_t)(end - p));
		p = end;
	}
	return 0;
}

/* Reads a \d at *s into *v; advances. */
static bool
digit(const char **s, int *v)
{
	const char *c = *s;
	int d;

	if (*c == '\0' || (d = py_digit(utf8_next(&c))) < 0)
		return false;
	*v = d;
	*s = c;
	return true;
}

/* One alternative of strptime's %m or %d regular expression: a first
 * character in first[] (' ' counts as 0), then, unless second is 0, a
 * second in [second, last] or any \d when second is 'd'. */
struct alt {
	const char	*first;
	char		 second, last;
};

static bool
alt_match(const struct alt *alt, const char *s, int *v, const char **end)
{
	int d;

	if (*s == '\0' || strchr(alt->first, *s) == NULL)
		return false;
	*v = *s == ' ' ? 0 : *s - '0';
	s++;
	if (alt->second == 'd') {
		if (!digit(&s, &d))
			return false;
		*v = *v * 10 + d;
	} else if (alt->second != 0) {
		if (*s < alt->second || *s > alt->last)
			return false;
		*v = *v * 10 + (*s++ - '0');
	}
	*end = s;
	return true;
}

/* strptime(s, '%Y-%m-%d') and a real date, as Python reads them: %Y is
 * four \d, %m the first of 1[0-2], 0[1-9], [1-9] and %d the first of
 * 3[01], [12]\d, 0[1-9], [1-9], " [1-9]" with which the whole pattern
 * matches; text left after the match is an error, not a reason to try
 * another alternative. The date as YYYY-MM-DD in out. */
static bool
parse_date(const char *s, char out[11])
{
	static const struct alt months[] = {
		{ "1", '0', '2' }, { "0", '1', '9' }, { "123456789", 0, 0 },
	}, days[] = {
		{ "3", '0', '1' }, { "12", 'd', 0 }, { "0", '1', '9' }, { "123456789", 0, 0 },
		{ " ", '1', '9' },
	};
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = 0, v;
	const char *p = s;

	for (int i = 0; i < 4; i++) {
		if (!digit(&p, &v))
			return false;
		y = y * 10 + v;
	}
	if (*p++ != '-')
		return false;
	for (size_t i = 0; i < sizeof(months) / sizeof(months[0]); i++) {
		int m, d;
		const char *q, *end;

		if (!alt_match(&months[i], p, &m, &q) || *q != '-')
			continue;
		q++;
		for (size_t j = 0; j < sizeof(days) / sizeof(days[0]); j++) {
			if (!alt_match(&days[j], q, &d, &end))
				continue;
			bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
			if (*end != '\0' || y < 1 || d > mdays[m - 1] + (m == 2 && leap))
				return false;
			snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000, (unsigned)m % 100, (unsigned)d % 100);
			return true;
		}
	}
	return false;
}

int
searchq_check(struct arena *a, struct searchq *q, const char **err)
{
	*err = NULL;
	for (size_t i = 0; i < q->nops; i++) {
		struct searchq_op *op = &q->ops[i];
		const char *key = op->def->key;
		size_t start, end;
		char date[11];

		py_strip(op->value, strlen(op->value), &start, &end);
		op->value = arena_strndup(a, op->value + start, end - start);
		if (*op->value == '\0') {
			*err = arena_printf(a, "Operator \"%s\" requires a value (e.g. %s:something).",
			    key, key);
			return -1;
		}
		switch (op->def->kind) {
		case SEARCHQ_AFTER:
		case SEARCHQ_BEFORE:
			if (!parse_date(op->value, date)) {
				*err = arena_printf(a, "Invalid date for \"%s\": %s. Use YYYY-MM-DD.",
				    key, py_repr(a, op->value));
				return -1;
			}
			op->value = arena_strdup(a, date);
			break;
		case SEARCHQ_FILE_TYPE:
			/* Python's value.lower() can only give an alias from ASCII. */
			for (size_t j = 0; j < sizeof(file_type_aliases) / sizeof(file_type_aliases[0]); j++)
				if (strcasecmp(op->value, file_type_aliases[j][0]) == 0)
					op->value = file_type_aliases[j][1];
			break;
		case SEARCHQ_TEXT:
			break;
		}
	}
	return 0;
}
