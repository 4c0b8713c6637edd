/*
 * jsonread.c - the one JSON parser (see jsonread.h): json-c's strict
 * tokener with the archive's depth limit, then one pass over the text of
 * the value for what json-c lets through but the archive cannot keep.
 * The pass runs on text json-c has accepted, so it only needs to tell
 * strings, numbers and the NaN/Infinity literals apart.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* "<what>: line L column C (char N)" as Python's json module words a
 * position: lines and columns from 1, N from 0, counted in characters. */
static int
fail_at(char *err, size_t errlen, const char *text, size_t pos, const char *what)
{
	size_t line = 1, col = 1, chars = 0;

	if (err == NULL || errlen == 0)
		return -1;
	for (size_t i = 0; i < pos; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c & 0xC0) == 0x80)		/* a UTF-8 continuation byte */
			continue;
		chars++;
		col = c == '\n' ? 1 : col + 1;
		line += c == '\n';
	}
	snprintf(err, errlen, "%s: line %zu column %zu (char %zu)", what, line, col, chars);
	return -1;
}

/* DRF's answer to a constant Python's json would make a float of; also
 * given for a number too large for a double, and (with its own words)
 * for an integer outside 64 bits. Long tokens are shortened. */
static int
fail_token(char *err, size_t errlen, const char *what, const char *tok, size_t n)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: '%.*s%s'", what, (int)(n > 40 ? 32 : n), tok, n > 40 ? "..." : "");
	return -1;
}

static const char FLOAT_RANGE[] = "Out of range float values are not JSON compliant";

/* Whether the integer digits d[0..n) (no sign, no leading zero) fit in
 * json-c's int64 (negative) or uint64 (positive): beyond them json-c
 * clamps the value without a word. */
static bool
int_fits(const char *d, size_t n, bool negative)
{
	const char *max = negative ? "9223372036854775808" : "18446744073709551615";
	size_t maxlen = strlen(max);

	return n < maxlen || (n == maxlen && memcmp(d, max, n) <= 0);
}

/* Whether the JSON number text t[0..n) is finite as a double. strtod in
 * the C locale (the program's may use a decimal comma), on a copy since
 * the text is not NUL-terminated. */
static bool
double_finite(const char *t, size_t n)
{
	static locale_t	 c_locale;
	char		 small[64], *copy = n < sizeof(small) ? small : malloc(n + 1);
	double		 d;

	if (copy == NULL)
		return true;	/* cannot tell; json-c took it */
	memcpy(copy, t, n);
	copy[n] = '\0';
	if (c_locale == (locale_t)0)
		c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	d = c_locale != (locale_t)0 ? strtod_l(copy, NULL, c_locale) : strtod(copy, NULL);
	if (copy != small)
		free(copy);
	return isfinite(d);
}

/* The length of the number at t[0..len) as RFC 8259 writes numbers
 * (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), 0 when none starts
 * there; *is_int when it has neither fraction nor exponent. json-c also
 * takes "1." and "-.5" (which PostgreSQL refuses) and "-01" (as -1), none
 * of them JSON. */
static size_t
number_len(const char *t, size_t len, bool *is_int)
{
	size_t j = 0, d;

#define DIGIT(k) ((k) < len && t[k] >= '0' && t[k] <= '9')
	*is_int = true;
	if (j < len && t[j] == '-')
		j++;
	if (j < len && t[j] == '0')
		j++;
	else if (DIGIT(j) && t[j] != '0')
		while (DIGIT(j))
			j++;
	else
		return 0;
	if (j < len && t[j] == '.') {
		*is_int = false;
		for (d = ++j; DIGIT(j); j++)
			;
		if (j == d)
			return 0;
	}
	if (j < len && (t[j] == 'e' || t[j] == 'E')) {
		*is_int = false;
		if (++j < len && (t[j] == '+' || t[j] == '-'))
			j++;
		for (d = j; DIGIT(j); j++)
			;
		if (j == d)
			return 0;
	}
#undef DIGIT
	return j;
}

/* The pass over text[0..len), one JSON value json-c has accepted (or the
 * part before json-c's depth error: the first problem in text order). */
static int
check_text(const char *t, size_t len, char *err, size_t errlen)
{
	size_t i = 0, depth = 0;

	while (i < len) {
		char c = t[i];

		if (c == '"') {
			size_t j = i + 1, nul = SIZE_MAX;

			while (j < len && t[j] != '"') {
				if (t[j] == '\\') {
					if (j + 5 < len && t[j + 1] == 'u' && memcmp(t + j + 2, "0000", 4) == 0 &&
					    nul == SIZE_MAX)
						nul = j;
					j += j + 1 < len && t[j + 1] == 'u' ? 6 : 2;
				} else if ((unsigned char)t[j] < 0x20)	/* json-c takes them raw */
					return fail_at(err, errlen, t, j, "Invalid control character at");
				else
					j++;
			}
			if (j >= len)
				return fail_at(err, errlen, t, i, "Unterminated string starting at");
			/* A string followed by ':' is a key: json-c keeps keys
			 * as C strings and would cut this one at the NUL. */
			if (nul != SIZE_MAX) {
				size_t k = j + 1;
				while (k < len && is_ws(t[k]))
					k++;
				if (k < len && t[k] == ':')
					return fail_at(err, errlen, t, nul,
					    "Null characters are not allowed in an object key");
			}
			i = j + 1;
		} else if (c == '[' || c == '{') {
			if (++depth > JSONREAD_MAX_DEPTH) {
				char what[64];
				snprintf(what, sizeof(what), "Nesting deeper than %d levels", JSONREAD_MAX_DEPTH);
				return fail_at(err, errlen, t, i, what);
			}
			i++;
		} else if (c == ']' || c == '}') {
			depth -= depth > 0;
			i++;
		} else if (c == '\'')		/* json-c takes 'key' in strict mode */
			return fail_at(err, errlen, t, i, "Expecting property name enclosed in double quotes");
		else if (c == 'N')
			return fail_token(err, errlen, FLOAT_RANGE, "NaN", 3);
		else if (c == 'I')
			return fail_token(err, errlen, FLOAT_RANGE, "Infinity", 8);
		else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t j = i, n;
			bool is_int;

			if (c == '-' && i + 1 < len && t[i + 1] == 'I')
				return fail_token(err, errlen, FLOAT_RANGE, "-Infinity", 9);
			/* The token json-c took: all of it must be the number. */
			while (j < len && (t[j] == '.' || t[j] == 'e' || t[j] == 'E' || t[j] == '+' ||
			    t[j] == '-' || (t[j] >= '0' && t[j] <= '9')))
				j++;
			n = number_len(t + i, j - i, &is_int);
			if (n != j - i)
				return fail_at(err, errlen, t, i, "Invalid number");
			if (is_int && !int_fits(t + i + (c == '-'), n - (c == '-'), c == '-'))
				return fail_token(err, errlen, "Integers must fit in 64 bits", t + i, n);
			if (!is_int && !double_finite(t + i, n))
				return fail_token(err, errlen, FLOAT_RANGE, t + i, n);
			i = j;
		} else
			i++;
	}
	return 0;
}

int
jsonread(const char *text, size_t len, struct json_object **out, char *err, size_t errlen)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 jerr;
	size_t			 start = 0, end;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL)	/* an empty struct buf has no data */
		text = "", len = 0;
	while (start < len && is_ws(text[start]))
		start++;
	if (start == len)
		return fail_at(err, errlen, text, len, "Expecting value");
	if (len > INT_MAX)	/* json-c counts in int */
		return fail_at(err, errlen, text, 0, "Document too large");
	/* json-c counts the innermost scalar as a level too; the pass counts
	 * arrays and objects. */
	if ((tok = json_tokener_new_ex(JSONREAD_MAX_DEPTH + 1)) == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "Out of memory");
		return -1;
	}
	/* Strict: no single quotes, trailing commas, comments or bare words
	 * (Python's json refuses them too). */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	/* json-c waits for more after a number or an unfinished value: the
	 * end of the text is its NUL (json_tokener_parse ends so too). */
	if (jerr == json_tokener_continue) {
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		json_object_put(o);
		/* The same message and position as the pass gives one level
		 * less deep. */
		if (jerr == json_tokener_error_depth && check_text(text, end, err, errlen) != 0)
			return -1;
		return fail_at(err, errlen, text, end, json_tokener_error_desc(jerr));
	}
	/* json-c stops after one value (or at a NUL byte): only white space
	 * may follow. */
	size_t rest = end;
	while (rest < len && is_ws(text[rest]))
		rest++;
	if (rest < len) {
		json_object_put(o);
		return fail_at(err, errlen, text, rest, "Extra data");
	}
	if (check_text(text, end, err, errlen) != 0) {
		json_object_put(o);
		return -1;
	}
	*out = o;
	return 0;
}

struct json_object *
jsonread_file(const char *path, char *err, size_t errlen)
{
	struct json_object	*o = NULL;
	FILE			*f;
	char			*text = NULL, *grown, msg[256];
	size_t			 len = 0, cap = 0, n;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((f = fopen(path, "r")) == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			if ((grown = realloc(text, cap)) == NULL) {
				free(text);
				fclose(f);
				if (err != NULL && errlen > 0)
					snprintf(err, errlen, "%s: out of memory", path);
				return NULL;
			}
			text = grown;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	bool failed = ferror(f) != 0;
	fclose(f);
	if (failed) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: read error", path);
	} else if (jsonread(text, len, &o, msg, sizeof(msg)) != 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", path, msg);
	free(text);
	return o;
}

struct json_object *
jsonread_str(const char *text, char *err, size_t errlen)
{
	struct json_object *o;

	if (text == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "Expecting value: no text");
		return NULL;
	}
	return jsonread(text, strlen(text), &o, err, errlen) == 0 ? o : NULL;
}
