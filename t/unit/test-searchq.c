/*
 * Unit tests of searchq.c (the search operator syntax) and pyunicode.c.
 * The first cases are those of the original's test_search_parser.py, in
 * our words; the expected results of the others (dates, quoting, Unicode
 * whitespace and repr in messages) were printed by Debian 12's python3
 * running the original's parser and value checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "pyunicode.h"
#include "searchq.h"
#include "util.h"
#include "tap.h"

static struct arena A;

/* The parse and check of q as one line: "w:word|op:key=value|..." or
 * "error:message". */
static const char *
parsed(const char *q)
{
	struct searchq sq;
	const char *err;
	struct buf b;
	char *out;

	if (searchq_parse(&A, q, &sq, &err) != 0 || searchq_check(&A, &sq, &err) != 0)
		return arena_printf(&A, "error:%s", err);
	buf_init(&b);
	for (size_t i = 0; i < sq.nwords; i++)
		buf_printf(&b, "%sw:%s", b.len ? "|" : "", sq.words[i]);
	for (size_t i = 0; i < sq.nops; i++)
		buf_printf(&b, "%sop:%s=%s", b.len ? "|" : "", sq.ops[i].def->key, sq.ops[i].value);
	buf_append(&b, "", 1);
	out = arena_strdup(&A, b.data);
	buf_free(&b);
	return out;
}

#define UNKNOWN_TAIL " Wrap the term in double quotes (e.g. \"foo:bar\") to search for it as text."
#define UNBALANCED "error:Unbalanced quote in search query. Remove the stray quote, or wrap" \
	" the intended phrase in matched quotes."

int
main(void)
{
	arena_init(&A);

	/* --- the original's parser cases --- */
	is_str(parsed(""), "", "empty text: nothing");
	is_str(parsed("   "), "", "only whitespace: nothing");
	is_str(parsed("hippocampus place cells"), "w:hippocampus|w:place|w:cells", "free words only");
	is_str(parsed("species:mouse created_after:2024-01-01"),
	    "op:species=mouse|op:created_after=2024-01-01", "operators only");
	is_str(parsed("place cells species:mouse created_after:2024-01-01 ca1"),
	    "w:place|w:cells|w:ca1|op:species=mouse|op:created_after=2024-01-01",
	    "words and operators mixed");
	is_str(parsed("\"place cells\" hippocampus"), "w:place cells|w:hippocampus",
	    "a quoted phrase is one free word");
	is_str(parsed("technique:\"patch clamp\""), "op:technique=patch clamp", "a quoted operator value");
	is_str(parsed("species:mouse species:rat"), "op:species=mouse|op:species=rat",
	    "a repeated operator keeps both");
	is_str(parsed("species:\"C57BL/6\""), "op:species=C57BL/6", "special characters in a quoted value");
	is_str(parsed("\"foo:bar\" hippocampus"), "w:foo:bar|w:hippocampus",
	    "a quoted key:value is free text");
	is_str(parsed("owner:jdoe"), "op:owner=jdoe", "owner by login");
	is_str(parsed("owner:user@example.com"), "op:owner=user@example.com", "owner by e-mail");
	is_str(parsed("foo:bar"), "error:Unknown search operator \"foo\"." UNKNOWN_TAIL,
	    "unknown operator, nothing close");
	is_str(parsed("specie:mouse"), "error:Unknown search operator \"specie\". Did you mean"
	    " \"species\"?" UNKNOWN_TAIL, "unknown operator: a letter missing");
	is_str(parsed("createdafter:2024-01-01"), "error:Unknown search operator \"createdafter\"."
	    " Did you mean \"created_after\"?" UNKNOWN_TAIL, "unknown operator: underscore missing");
	is_str(parsed("hello \"world species:mouse"), UNBALANCED, "stray quote mid-text");
	is_str(parsed("foo \"bar"), UNBALANCED, "stray quote at the end");
	char *a5000 = xcalloc(5001, 1), *a1024 = xcalloc(1025, 1), *e1025 = xcalloc(2 * 1025 + 1, 1);
	memset(a5000, 'a', 5000);
	memset(a1024, 'a', 1024);
	for (int i = 0; i < 1025; i++)
		memcpy(e1025 + 2 * i, "\xc3\xa9", 2);
	is_str(parsed(a5000), "error:Search query is too long (5000 characters; max 1024).", "too long");
	is_str(parsed(a1024) + 2, a1024, "1024 characters are allowed");
	is_str(parsed(e1025), "error:Search query is too long (1025 characters; max 1024).",
	    "the length is in characters, not bytes");

	/* --- tokens as the original's regular expression reads them --- */
	is_str(parsed("species:"), "w:species:", "key: with nothing after is a free word");
	is_str(parsed("species:a:b"), "op:species=a:b", "the value runs to the end of the token");
	is_str(parsed("Species:mouse"), "w:Species:mouse", "keys are lower case: a free word");
	is_str(parsed("foo-bar:baz"), "w:foo-bar:baz", "a key of other characters: a free word");
	is_str(parsed("\"abc\"species:\"x\""), "w:abc|op:species=x", "tokens need no space between");
	is_str(parsed("x\"y z\""), "w:x\"y|w:z\"", "quotes inside a bare token stay");
	is_str(parsed("ab\"c d:\"e"), "error:Unknown search operator \"d\"." UNKNOWN_TAIL,
	    "key:\" without a closing quote is a bare token");
	is_str(parsed("species:\" \" foo:bar"), "error:Unknown search operator \"foo\"." UNKNOWN_TAIL,
	    "an unknown operator is reported before an empty value");
	is_str(parsed("a\xc2\xa0" "b\xe2\x80\x83" "c"), "w:a|w:b|w:c",
	    "Unicode whitespace separates (no-break space, em space)");
	is_str(parsed("owner:\"Jane Doe\" species:\"\xe3\x80\x80mouse\xe2\x80\x83\""),
	    "op:owner=Jane Doe|op:species=mouse", "values are stripped of Unicode whitespace");

	/* --- values --- */
	is_str(parsed("owner:\"  \""), "error:Operator \"owner\" requires a value (e.g. owner:something).",
	    "a blank value");
	is_str(parsed("species:\"\""), "error:Operator \"species\" requires a value (e.g."
	    " species:something).", "an empty value");
	is_str(parsed("file_type:NWB file_type:Video file_type:image/png file_type:nwbx"),
	    "op:file_type=application/x-nwb|op:file_type=video/|op:file_type=image/png|op:file_type=nwbx",
	    "file_type aliases in any case; other values as they are");

	/* --- dates as strptime('%Y-%m-%d') reads them --- */
	static const char *const dates[][2] = {
		{ "2024-1-5", "2024-01-05" }, { "2024-10-5", "2024-10-05" },
		{ "\"2024-1- 5\"", "2024-01-05" }, { "2024-02-29", "2024-02-29" },
		{ "0001-01-01", "0001-01-01" },
		{ "\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa4-01-05", "2024-01-05" },	/* Arabic-Indic digits */
		{ "2024-01-011", NULL }, { "2024-01-32", NULL }, { "2024-13-01", NULL },
		{ "2023-02-29", NULL }, { "1900-02-29", NULL }, { "0000-01-01", NULL },
		{ "not-a-date", NULL },
	};
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		const char *q = arena_printf(&A, "created_after:%s", dates[i][0]);
		const char *v = dates[i][0][0] == '"' ? arena_strndup(&A, dates[i][0] + 1,
		    strlen(dates[i][0]) - 2) : dates[i][0];
		const char *want = dates[i][1] ? arena_printf(&A, "op:created_after=%s", dates[i][1]) :
		    arena_printf(&A, "error:Invalid date for \"created_after\": '%s'. Use YYYY-MM-DD.", v);
		is_str(parsed(q), want, arena_printf(&A, "date %s", dates[i][0]));
	}
	is_str(parsed("created_after:2024-01-\xd9\xa3"), "error:Invalid date for \"created_after\":"
	    " '2024-01-\xd9\xa3'. Use YYYY-MM-DD.", "a one-digit day must be ASCII");
	/* the value in the message is Python's repr() */
	is_str(parsed("modified_before:\"it's\""), "error:Invalid date for \"modified_before\":"
	    " \"it's\". Use YYYY-MM-DD.", "repr: double quotes around a '");
	is_str(parsed("published_after:\"a\tb\\c\""), "error:Invalid date for \"published_after\":"
	    " 'a\\tb\\\\c'. Use YYYY-MM-DD.", "repr: tab and backslash escaped");
	is_str(parsed("created_before:\"x\xc2\xa0y\xe2\x80\x8bz\xf0\x9f\x98\x80\xee\x80\x80\xc3\xa9\x7f\""),
	    "error:Invalid date for \"created_before\": 'x\\xa0y\\u200bz\xf0\x9f\x98\x80\\ue000\xc3\xa9\\x7f'."
	    " Use YYYY-MM-DD.", "repr: what Python does not print is escaped");

	/* --- pyunicode --- */
	ok(py_isspace(0x85) && py_isspace(0x1f) && py_isspace(0x3000) && !py_isspace(0x200b),
	    "py_isspace: NEL, unit separator, ideographic space; not zero-width space");
	is_int(py_digit(0x1d7da), 2, "py_digit: mathematical double-struck two");
	is_int(py_digit(0xff11), 1, "py_digit: fullwidth one");
	is_int(py_digit('a'), -1, "py_digit: a letter");
	is_int(py_len("t\xc3\xa4t\xf0\x9f\x98\x80"), 4, "py_len counts code points");

	free(a5000), free(a1024), free(e1025);
	arena_reset(&A);
	return done_testing();
}
